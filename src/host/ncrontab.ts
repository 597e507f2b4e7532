/** A parsed six-field NCRONTAB schedule (`{second} {minute} {hour} {day} {month} {day-of-week}`), in UTC. */
export interface CronSchedule {
    /** The first occurrence strictly after `after`, or undefined if there is none within five years. */
    next(after: Date): Date | undefined;
}

interface FieldSpec {
    name: string;
    min: number;
    max: number;
    names?: readonly string[];
}

const fieldSpecs: readonly FieldSpec[] = [
    { name: 'second', min: 0, max: 59 },
    { name: 'minute', min: 0, max: 59 },
    { name: 'hour', min: 0, max: 23 },
    { name: 'day', min: 1, max: 31 },
    { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
    { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

function parseValue(text: string, spec: FieldSpec, expression: string): number {
    const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    const value = byName >= 0 ? byName + (spec.name === 'month' ? 1 : 0) : Number(text);
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw new Error(`"${expression}" is not a valid NCRONTAB schedule: "${text}" is not a ${spec.name} (${spec.min}-${spec.max}).`);
    }
    return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
    const values = new Set<number>();
    for (const part of text.split(',')) {
        const [range = '', stepText] = part.split('/');
        const step = stepText === undefined ? 1 : parseValue(stepText, { ...spec, min: 1, max: spec.max + 1 }, expression);
        let low = spec.min;
        let high = spec.name === 'day-of-week' ? 6 : spec.max;
        if (range !== '*' && range !== '?') {
            const [from = '', to] = range.split('-');
            low = parseValue(from, spec, expression);
            high = to === undefined ? (stepText === undefined ? low : spec.max) : parseValue(to, spec, expression);
        }
        for (let v = low; v <= high; v += step) values.add(spec.name === 'day-of-week' ? v % 7 : v);
    }
    return values;
}

const searchLimitMs = 5 * 366 * 24 * 3600 * 1000;

/** Parses an NCRONTAB expression as Azure Functions timer triggers use it. Throws a message naming the bad part. */
export function parseNcrontab(expression: string): CronSchedule {
    const parts = expression.trim().split(/\s+/);
    if (parts.length !== 6) {
        throw new Error(`"${expression}" is not a valid NCRONTAB schedule: it needs 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), not ${parts.length}.`);
    }
    const [seconds, minutes, hours, days, months, weekdays] = fieldSpecs.map((spec, i) => parseField(parts[i] ?? '', spec, expression)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
    return {
        next(after: Date): Date | undefined {
            const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
            const limit = after.getTime() + searchLimitMs;
            while (t.getTime() <= limit) {
                if (!months.has(t.getUTCMonth() + 1)) {
                    t.setUTCMonth(t.getUTCMonth() + 1, 1);
                    t.setUTCHours(0, 0, 0);
                } else if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
                    t.setUTCDate(t.getUTCDate() + 1);
                    t.setUTCHours(0, 0, 0);
                } else if (!hours.has(t.getUTCHours())) {
                    t.setUTCHours(t.getUTCHours() + 1, 0, 0);
                } else if (!minutes.has(t.getUTCMinutes())) {
                    t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
                } else if (!seconds.has(t.getUTCSeconds())) {
                    t.setUTCSeconds(t.getUTCSeconds() + 1);
                } else {
                    return t;
                }
            }
            return undefined;
        },
    };
}
