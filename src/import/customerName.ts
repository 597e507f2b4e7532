/**
 * A customer's whole name split into first and last name, as a CRM's lead wants them: `Last, First`
 * at its comma; otherwise the first word is the first name and the rest the last name (`Ludwig van
 * Beethoven`: `Ludwig`, `van Beethoven`), and a single word is the last name, which CRMs require.
 */
export function splitCustomerName(name: string): { firstName: string; lastName: string } {
    const text = name.replace(/\s+/g, ' ').trim();
    const comma = text.indexOf(',');
    if (comma >= 0) return { firstName: text.slice(comma + 1).trim(), lastName: text.slice(0, comma).trim() };
    const space = text.indexOf(' ');
    return space < 0 ? { firstName: '', lastName: text } : { firstName: text.slice(0, space), lastName: text.slice(space + 1) };
}
