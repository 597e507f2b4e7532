import { httpFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const console = lazy(() => import('../console/handleConsole'));

/**
 * GET /api/console and everything under it: the lead console. Anonymous at the function level: in
 * Azure, App Service Authentication signs people in and the console checks who they are.
 */
export const leadConsole = httpFunction('leadConsole', {
    route: 'console/{*path}',
    methods: ['GET', 'POST'],
    authLevel: 'anonymous',
    handler: async (request, context) => (await console()).handleConsole(request, context),
});
