/** Calendar arithmetic on UTC days written `YYYY-MM-DD`, as the leads table's partitions are named. */
const dayMs = 86_400_000;

export function dayOf(ms: number): string {
    return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
    return dayOf(Date.parse(day) + days * dayMs);
}

/** Every day from the first to the last, both included, oldest first. */
export function daysFrom(first: string, last: string): string[] {
    const days: string[] = [];
    for (let day = first; day <= last; day = addDays(day, 1)) days.push(day);
    return days;
}

/** `YYYY-MM`. */
export function monthOf(day: string): string {
    return day.slice(0, 7);
}

export function lastDayOfMonth(month: string): string {
    const [year = 0, number = 1] = month.split('-').map(Number);
    return dayOf(Date.UTC(year, number, 0));
}

export function monthAfter(month: string): string {
    return monthOf(addDays(lastDayOfMonth(month), 1));
}
