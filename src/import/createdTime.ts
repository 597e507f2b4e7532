const isoDate = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const usDate = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:\s*([AP])\.?M\.?)?)?$/i;

function offsetMinutes(zone: string | undefined): number {
    if (!zone || zone.toUpperCase() === 'Z') return 0;
    const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) ?? [];
    const total = Number(hours) * 60 + Number(minutes ?? 0);
    return sign === '-' ? -total : total;
}

/** The instant, or undefined when the parts are out of range (a 31 February, a 25th hour). */
function instant(year: number, month: number, day: number, hour: number, minute: number, second: number, fraction: string | undefined, offset: number): Date | undefined {
    const ms = Math.floor(Number(`0.${fraction ?? '0'}`) * 1000);
    const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    const check = new Date(utc);
    const inRange = check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
    return inRange ? new Date(utc - offset * 60_000) : undefined;
}

/**
 * A lead's creation time as exports write it: ISO 8601 (`2024-05-13T10:22:33.1234567Z`, as the
 * app and Azure Tables write it; a date alone is midnight) or month/day/year (`5/13/2024 10:22:33 AM`,
 * as US-English Partner Center and Excel write it). A time without a zone is UTC, the zone Partner
 * Center shows. Undefined for anything else, never a guess.
 */
export function parseCreatedTime(text: string): Date | undefined {
    const trimmed = text.trim();
    const iso = isoDate.exec(trimmed);
    if (iso) {
        const [, year, month, day, hour, minute, second, fraction, zone] = iso;
        return instant(Number(year), Number(month), Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0), fraction, offsetMinutes(zone));
    }
    const us = usDate.exec(trimmed);
    if (us) {
        const [, month, day, year, hour, minute, second, fraction, meridiem] = us;
        let hours = Number(hour ?? 0);
        if (meridiem) {
            if (hours < 1 || hours > 12) return undefined;
            hours = (hours % 12) + (meridiem.toUpperCase() === 'P' ? 12 : 0);
        }
        return instant(Number(year), Number(month), Number(day), hours, Number(minute ?? 0), Number(second ?? 0), fraction, 0);
    }
    return undefined;
}
