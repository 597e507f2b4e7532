const timeSpanPattern = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Milliseconds in a .NET TimeSpan as host.json writes it: `[d.]hh:mm:ss[.fffffff]`. */
export function parseTimeSpan(text: string): number {
    const match = timeSpanPattern.exec(text.trim());
    if (!match) throw new Error(`"${text}" is not a time span; write it as hh:mm:ss, for example "00:00:30".`);
    const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = match;
    const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
    return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + ms;
}
