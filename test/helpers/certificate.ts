import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './processes';

/** A self-signed certificate for localhost and 127.0.0.1, which an app process trusts via NODE_EXTRA_CA_CERTS. */
export function testCertificate(): { certFile: string; key: string; cert: string } {
    const dir = tempDir('tls');
    const certFile = join(dir, 'cert.pem');
    execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        { stdio: 'ignore' },
    );
    return { certFile, key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(certFile, 'utf8') };
}
