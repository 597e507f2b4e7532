/** The q-quantile (0..1) of some numbers, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `task(i)` for i in [0, count) with `concurrency` in flight; returns each task's latency in ms and the total wall time. */
export async function load(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ latencies: number[]; seconds: number }> {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < count) {
                const i = next++;
                const t = performance.now();
                await task(i);
                latencies.push(performance.now() - t);
            }
        }),
    );
    return { latencies, seconds: (performance.now() - started) / 1000 };
}
