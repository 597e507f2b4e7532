import type { Settings } from '../config/settings';
import { holdsAppRole, type HeaderReader } from './access';

export type FullExportTaker = { allowed: true; who: string } | { allowed: false; reason: string };

/**
 * Who may take the full export, with every contact detail (a person the console already let in):
 * outside Azure the person at the machine, as for the rest of the console; in Azure only a holder
 * of the app role CONSOLE_EXPORT_ROLE names, known by the name App Service Authentication gives.
 */
export function fullExportTaker(s: Pick<Settings, 'inAzure' | 'CONSOLE_EXPORT_ROLE'>, header: HeaderReader): FullExportTaker {
    if (!s.inAzure) return { allowed: true, who: 'the local operator' };
    const role = s.CONSOLE_EXPORT_ROLE;
    if (!role) return { allowed: false, reason: 'CONSOLE_EXPORT_ROLE names no app role, so nobody may take the export with contact details; Export CSV gives the list as NOTIFY_PII shows it.' };
    if (!holdsAppRole(header, role)) return { allowed: false, reason: `The export with contact details is for holders of the app role "${role}" (CONSOLE_EXPORT_ROLE), which you do not hold.` };
    return { allowed: true, who: header('x-ms-client-principal-name') ?? header('x-ms-client-principal-id') ?? 'a signed-in person' };
}
