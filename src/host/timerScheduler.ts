import type { Timer } from '@azure/functions';
import type { TimerFunctionDefinition } from '../runtime/define';
import { invoke } from './invoke';
import { hostLog } from './log';
import type { CronSchedule } from './ncrontab';

/** setTimeout cannot wait longer than this; longer waits are taken in steps. */
const maxTimeoutMs = 2 ** 31 - 1;

/**
 * Runs a timer-triggered function on its NCRONTAB schedule, in UTC. Like the Functions host, it
 * never runs two invocations of one timer at once: an occurrence that falls while one runs is skipped.
 */
export class TimerScheduler {
    private timeout: NodeJS.Timeout | undefined;
    private running: Promise<unknown> | undefined;
    private last: Date | undefined;
    private stopped = false;

    constructor(
        private readonly definition: TimerFunctionDefinition,
        private readonly schedule: CronSchedule,
        private readonly functionTimeoutMs: number,
    ) {}

    get name(): string {
        return this.definition.name;
    }

    start(): void {
        if (this.definition.options.runOnStartup) this.fire('Timer fired at startup (runOnStartup)');
        this.scheduleNext(new Date());
    }

    async stop(): Promise<void> {
        this.stopped = true;
        clearTimeout(this.timeout);
        await this.running?.catch(() => undefined);
    }

    /** Runs the function now, as the admin API does; false if an invocation is already running. */
    fire(reason = 'This function was programmatically called via the host APIs.'): boolean {
        if (this.running) {
            hostLog('information', `${this.name}: skipped an occurrence because the previous invocation is still running.`);
            return false;
        }
        const now = new Date();
        const next = this.schedule.next(now);
        const timer: Timer = {
            isPastDue: false,
            schedule: { adjustForDST: false },
            scheduleStatus: { last: (this.last ?? now).toISOString(), next: (next ?? now).toISOString(), lastUpdated: now.toISOString() },
        };
        this.last = now;
        this.running = invoke(this.definition.options.handler, timer, {
            functionName: this.name,
            trigger: { type: 'timerTrigger', name: 'timer' },
            reason,
            timeoutMs: this.functionTimeoutMs,
        })
            .catch(() => undefined)
            .finally(() => {
                this.running = undefined;
            });
        return true;
    }

    private scheduleNext(after: Date): void {
        if (this.stopped) return;
        const next = this.schedule.next(after);
        if (!next) {
            hostLog('warning', `${this.name}: the schedule has no next occurrence; the timer will not run.`);
            return;
        }
        const wait = next.getTime() - Date.now();
        this.timeout = setTimeout(
            () => {
                if (Date.now() < next.getTime()) return this.scheduleNext(after);
                this.fire(`Timer fired at ${next.toISOString()}`);
                this.scheduleNext(next);
            },
            Math.min(Math.max(wait, 0), maxTimeoutMs),
        );
    }
}
