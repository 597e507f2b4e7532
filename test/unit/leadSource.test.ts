import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLeadSource } from '../../src/lead/leadSource';

describe('parseLeadSource', () => {
    it('splits the combined Source-Action|Offer form and the offer into publisher and offer ids', () => {
        assert.deepEqual(parseLeadSource('AzureMarketplace-INS|contoso.contoso-analytics-byol'), {
            source: 'AzureMarketplace',
            action: 'INS',
            offer: 'contoso.contoso-analytics-byol',
            publisherId: 'contoso',
            offerId: 'contoso-analytics-byol',
        });
    });

    it('keeps the space and parentheses of "AppSource (SPZA)"', () => {
        const parts = parseLeadSource('AppSource (SPZA)-PLT|bitnami.openedxcypress');
        assert.equal(parts.source, 'AppSource (SPZA)');
        assert.equal(parts.action, 'PLT');
        assert.equal(parts.publisherId, 'bitnami');
        assert.equal(parts.offerId, 'openedxcypress');
    });

    it('splits an offer id that itself holds hyphens and digits at the first dot', () => {
        const parts = parseLeadSource('AzurePortal-Create|docusign.3701c77e-1cfa-4c56-91e6-3ed0b622145');
        assert.equal(parts.action, 'Create');
        assert.equal(parts.publisherId, 'docusign');
        assert.equal(parts.offerId, '3701c77e-1cfa-4c56-91e6-3ed0b622145');
    });

    it('reads test drive and do-not-contact actions, in any casing', () => {
        assert.equal(parseLeadSource('TestDrive-StartTestDrive|a.b').action, 'StartTestDrive');
        assert.equal(parseLeadSource('azuremarketplace-dnc|a.b').action, 'DNC');
        assert.equal(parseLeadSource('azuremarketplace-dnc|a.b').source, 'AzureMarketplace');
    });

    it('keeps unknown sources and actions as they are', () => {
        const parts = parseLeadSource('NewStore-Wishlist|pub.offer');
        assert.equal(parts.source, 'NewStore');
        assert.equal(parts.action, 'Wishlist');
    });

    it('reads a bare source, a source with a known action, and a hyphenated source without one', () => {
        assert.deepEqual(parseLeadSource('AzureMarketplace'), { source: 'AzureMarketplace', action: '', offer: '', publisherId: '', offerId: '' });
        assert.equal(parseLeadSource('AzureMarketplace-INS').action, 'INS');
        assert.equal(parseLeadSource('Some-Store').source, 'Some-Store');
        assert.equal(parseLeadSource('Some-Store').action, '');
    });

    it('reads the MSFT_TEST lead source, whose offer is a name with no ids', () => {
        const parts = parseLeadSource('MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844|<Offer Name>');
        assert.equal(parts.source, 'MSFT_TEST_636573304831318844');
        assert.equal(parts.action, 'MSFT_TEST_636573304831318844');
        assert.equal(parts.offer, '<Offer Name>');
        assert.equal(parts.publisherId, '');
    });

    it('never throws on odd input', () => {
        for (const text of ['', '|', '-', '-|', '||x', '-INS|', 'a-b-c|d.e.f', ' \t ', 'x|.', 'x|a.', '\u0000|\uffff']) {
            assert.doesNotThrow(() => parseLeadSource(text), text);
        }
        assert.equal(parseLeadSource('a-b-c|d.e.f').source, 'a-b');
        assert.equal(parseLeadSource('a-b-c|d.e.f').offerId, 'e.f');
    });
});
