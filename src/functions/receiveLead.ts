import { httpFunction } from '../runtime/define';
import { lazy } from '../runtime/lazy';

const intake = lazy(() => import('../intake/acceptLead'));

/** POST /api/leads: the marketplace's HTTPS endpoint lead destination. */
export const receiveLead = httpFunction('receiveLead', {
    route: 'leads',
    methods: ['POST'],
    authLevel: 'function',
    handler: async (request, context) => (await intake()).acceptLead(request, context),
});
