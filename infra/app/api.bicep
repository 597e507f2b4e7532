// The function app: Flex Consumption (Linux, Node.js 22), running as the user-assigned identity,
// with identity-based storage connections and every app setting the app reads.
param name string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param appInsightsConnectionString string
param keyVaultUri string
@description('Names of the secrets stored in Key Vault; blank entries were not set.')
param secretNames array
param acsEndpoint string
param acsSender string
param leadDestinations string
param leadRoutes string
param notifyTo string
param notifySchedule string
param notifyPii string
param notifyFrom string
param notifySourceTable string
@description('acs, smtp, or blank: then the app refuses to mail, naming EMAIL_TRANSPORT (the outbox cannot work in Azure).')
param emailTransport string
param smtpHost string
param smtpPort int
param smtpSecure bool
param smtpUser string
param webhookUrl string
param webhookPing bool
param dynamicsUrl string
param dynamicsTenantId string
param dynamicsClientId string
param salesforceOid string
param salesforceDomain string
param salesforceClientId string
param salesforceExternalIdField string
param marketoUrl string
param marketoClientId string
param dynamicsFields string
param salesforceFields string
param marketoFields string
param hubspotFields string
param alertTo string
param alertIntervalMinutes int
param alertFailingMinutes int
param alertQuietHours string
@description('Client id of the Entra ID app registration for the console; blank leaves App Service Authentication off, and the console answers 404.')
param consoleClientId string
param consoleAllowedRoles string
param consoleAllowedGroups string
param consoleExportRole string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: { minTlsVersion: '1.2', ftpsState: 'Disabled' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// No deployment with a user name and password: FTP and the SCM site's basic credentials are off, so
// publishing goes through Entra ID (azd, az and Core Tools all use an access token).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

// A Key Vault reference when the secret was stored, else unset.
func secretSetting(vaultUri string, stored array, secret string) string => contains(stored, secret) ? '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secret}/)' : ''

// Not set in Azure (optional, local development only): AzureWebJobsStorage (a connection string;
// Azure uses the identity-based AzureWebJobsStorage__* settings), AzureWebJobsStorage__accountName,
// OUTBOX_DIR, ACS_CONNECTION_STRING, DYNAMICS_AUTHORITY_HOST. Add any of them here to use it.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: 'https://${storageAccountName}.blob.${environment().suffixes.storage}'
    AzureWebJobsStorage__queueServiceUri: 'https://${storageAccountName}.queue.${environment().suffixes.storage}'
    AzureWebJobsStorage__tableServiceUri: 'https://${storageAccountName}.table.${environment().suffixes.storage}'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    AZURE_CLIENT_ID: identityClientId

    LEADS_QUEUE: 'leads'
    LEADS_TABLE: 'MarketplaceLeads'
    ANONYMOUS_LEADS_TABLE: 'LeadAnonymousPosts'

    LEAD_DESTINATIONS: leadDestinations
    LEAD_ROUTES: leadRoutes
    DNC_DESTINATIONS: 'table'
    DELIVER_TEST_LEADS: 'true'
    DELIVERIES_TABLE: 'LeadDeliveries'
    DELIVERY_MAX_ATTEMPTS: '12'
    DELIVERY_RETRY_SECONDS: '15'
    DELIVERY_TIMEOUT_SECONDS: '30'
    DELIVERY_INLINE_SECONDS: '10'
    DELIVERY_CIRCUIT_FAILURES: '5'
    DELIVERY_CIRCUIT_PAUSE_SECONDS: '30'
    DELIVERY_CIRCUIT_MAX_PAUSE_SECONDS: '300'

    WEBHOOK_URL: webhookUrl
    WEBHOOK_SECRET: secretSetting(keyVaultUri, secretNames, 'webhook-secret')
    WEBHOOK_PING: string(webhookPing)
    DYNAMICS_URL: dynamicsUrl
    DYNAMICS_TENANT_ID: dynamicsTenantId
    DYNAMICS_CLIENT_ID: dynamicsClientId
    DYNAMICS_CLIENT_SECRET: secretSetting(keyVaultUri, secretNames, 'dynamics-client-secret')
    DYNAMICS_FIELDS: dynamicsFields
    SALESFORCE_OID: salesforceOid
    SALESFORCE_URL: 'https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8'
    SALESFORCE_FIELDS: salesforceFields
    SALESFORCE_DOMAIN: salesforceDomain
    SALESFORCE_CLIENT_ID: salesforceClientId
    SALESFORCE_CLIENT_SECRET: secretSetting(keyVaultUri, secretNames, 'salesforce-client-secret')
    SALESFORCE_EXTERNAL_ID_FIELD: salesforceExternalIdField
    SALESFORCE_API_VERSION: '62.0'
    MARKETO_URL: marketoUrl
    MARKETO_CLIENT_ID: marketoClientId
    MARKETO_CLIENT_SECRET: secretSetting(keyVaultUri, secretNames, 'marketo-client-secret')
    MARKETO_FIELDS: marketoFields
    HUBSPOT_TOKEN: secretSetting(keyVaultUri, secretNames, 'hubspot-token')
    HUBSPOT_URL: 'https://api.hubapi.com'
    HUBSPOT_FIELDS: hubspotFields
    TEAMS_WEBHOOK_URL: secretSetting(keyVaultUri, secretNames, 'teams-webhook-url')
    SLACK_WEBHOOK_URL: secretSetting(keyVaultUri, secretNames, 'slack-webhook-url')

    NOTIFY_SCHEDULE: notifySchedule
    NOTIFY_TO: notifyTo
    NOTIFY_FROM: !empty(notifyFrom) ? notifyFrom : (empty(acsSender) ? 'marketplace-leads@localhost' : acsSender)
    NOTIFY_PII: notifyPii
    NOTIFY_SOURCE_TABLE: notifySourceTable
    NOTIFY_SOURCE_CONNECTION: secretSetting(keyVaultUri, secretNames, 'notify-source-connection')
    NOTIFY_STATE_TABLE: 'LeadNotifications'
    NOTIFY_MAX_LEADS_PER_MAIL: '200'
    EMAIL_TRANSPORT: emailTransport
    ACS_ENDPOINT: acsEndpoint
    SMTP_HOST: smtpHost
    SMTP_PORT: string(smtpPort)
    SMTP_SECURE: string(smtpSecure)
    SMTP_USER: smtpUser
    SMTP_PASSWORD: secretSetting(keyVaultUri, secretNames, 'smtp-password')

    ALERT_TO: alertTo
    ALERT_SCHEDULE: '0 * * * * *'
    ALERT_INTERVAL_MINUTES: string(alertIntervalMinutes)
    ALERT_FAILING_MINUTES: string(alertFailingMinutes)
    ALERT_QUIET_HOURS: alertQuietHours
    ALERTS_TABLE: 'LeadAlerts'
    CHECK_SCHEDULE: '0 0 6 * * *'
    CHECKS_TABLE: 'LeadChecks'
    CONSOLE_ALLOWED_ROLES: consoleAllowedRoles
    CONSOLE_ALLOWED_GROUPS: consoleAllowedGroups
    CONSOLE_EXPORT_ROLE: consoleExportRole
    // Written only with the sign-in below: where the platform does not set WEBSITE_AUTH_ENABLED, this tells the app it is behind it.
    CONSOLE_SIGN_IN: empty(consoleClientId) ? '' : 'entra'
    CONSOLE_URL: 'https://${app.properties.defaultHostName}/api/console'
    // Read by App Service Authentication itself (clientSecretSettingName below), not by the app.
    MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: secretSetting(keyVaultUri, secretNames, 'console-client-secret')
  }
}

// Sign-in for the console: App Service Authentication with Entra ID, in the mode that lets requests
// without a sign-in through (the marketplace cannot sign in to POST /api/leads). The platform then
// strips any x-ms-client-principal a client sends and sets it for people it signed in; the console
// checks it against the allowed roles and groups, and answers 404 while this is off.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(consoleClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: consoleClientId
          clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET'
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: { allowedAudiences: ['api://${consoleClientId}', consoleClientId] }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
  dependsOn: [settings]
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
