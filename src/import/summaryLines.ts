import type { ImportSummary } from './importLeads';

/** The summary of an import as lines a person reads: the CLI prints them, the console shows them. */
export function importSummaryLines(summary: ImportSummary): string[] {
    const verb = summary.dryRun ? 'Would import' : 'Imported';
    const lines = [`${verb} ${summary.rows} row(s): ${summary.new} new, ${summary.alreadyThere} already there, ${summary.updated} updated, ${summary.refused} refused.`];
    if (summary.dryRun) lines.push('Dry run: nothing was changed.');
    if (summary.ignoredColumns.length > 0) lines.push(`Columns not read: ${summary.ignoredColumns.join(', ')}.`);
    if (summary.keptColumns?.length) lines.push(`Columns kept in each lead's other fields: ${summary.keptColumns.join(', ')}.`);
    for (const refusal of summary.refusals) lines.push(`Row ${refusal.row} (line ${refusal.line}): ${refusal.reason}`);
    if (summary.refused > summary.refusals.length) lines.push(`… and ${summary.refused - summary.refusals.length} more refused row(s).`);
    if (summary.stopped) lines.push(`Stopped${summary.stopped.line ? ` at line ${summary.stopped.line}` : ''}: ${summary.stopped.reason}`);
    return lines;
}
