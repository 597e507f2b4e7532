/** One e-mail: a digest to the publisher's contacts. */
export interface Mail {
    from: string;
    to: readonly string[];
    subject: string;
    text: string;
    html: string;
}

/** Sends mail; resolves only once the mail service has accepted the message. */
export interface MailTransport {
    readonly name: string;
    /** Where mail goes, for the start-up message: a folder, a server, an endpoint. */
    readonly description: string;
    send(mail: Mail): Promise<void>;
}
