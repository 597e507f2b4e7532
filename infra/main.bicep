// Marketplace leads: everything the app needs in one resource group, with no storage keys.
// Deploy with `azd up`, or `npm run deploy` (az deployment sub create + zip deploy of npm run package).
// Every parameter azd should fill is in main.parameters.json, read from `azd env set NAME value`.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment; names the resource group and the resources in it.')
param environmentName string

@minLength(1)
@description('Azure region for every resource: one where Flex Consumption is offered.')
// The Flex Consumption regions of Microsoft's own template (Azure-Samples/functions-quickstart-typescript-azd
// infra/main.bicep, commit 157d2cec, 2026), less the eastus2euap canary; `az functionapp list-flexconsumption-locations` lists today's.
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Where each lead goes: table, webhook, dynamics, salesforce, salesforce-api, marketo, hubspot, teams, slack (comma-separated).')
param leadDestinations string = 'table'

@description('JSON routing rules by offer and action; empty for none.')
param leadRoutes string = ''

@description('Semicolon-separated addresses told of new leads (Partner Center\'s "Contact email").')
param notifyTo string = ''

@description('NCRONTAB schedule of the digest e-mail.')
param notifySchedule string = '0 */5 * * * *'

@allowed(['full', 'masked', 'none'])
@description('How much personal data the digest shows.')
param notifyPii string = 'masked'

@description('Sender of the digests; blank for ACS\'s DoNotReply address (required with SMTP).')
param notifyFrom string = ''

@description('A table the marketplace writes itself (its Azure Table lead destination) to mail from, instead of the app\'s; blank for none.')
param notifySourceTable string = ''

@description('Provision Azure Communication Services Email with an Azure-managed domain and send digests with it.')
param enableEmail bool = true

@description('Where Azure Communication Services keeps its data at rest (Europe keeps EU data in the EU); cannot be changed once created.')
@allowed([
  'Africa'
  'Asia Pacific'
  'Australia'
  'Brazil'
  'Canada'
  'Europe'
  'France'
  'Germany'
  'India'
  'Japan'
  'Korea'
  'Norway'
  'Switzerland'
  'UAE'
  'UK'
  'United States'
])
param emailDataLocation string = 'United States'

@description('An SMTP server to send digests through instead of ACS (with enableEmail=false); blank for none.')
param smtpHost string = ''
param smtpPort int = 587
param smtpSecure bool = false
param smtpUser string = ''

@description('Settings of the optional destinations; blank ones stay unset.')
param webhookUrl string = ''
@description('The daily destination check sends the webhook a signed {"event": "ping"}; turn on once the receiver ignores it.')
param webhookPing bool = false
param dynamicsUrl string = ''
param dynamicsTenantId string = ''
param dynamicsClientId string = ''
param salesforceOid string = ''
param salesforceDomain string = ''
param salesforceClientId string = ''
param salesforceExternalIdField string = ''
param marketoUrl string = ''
param marketoClientId string = ''
@description('CRM field mappings (JSON objects from CRM field to lead field or "=constant"); blank: the built-in mapping.')
param dynamicsFields string = ''
param salesforceFields string = ''
param marketoFields string = ''
param hubspotFields string = ''

@description('Who is e-mailed when something needs a person (poison, failing destination, set aside, quiet); blank: notifyTo.')
param alertTo string = ''
@description('At most one alert mail per kind in this many minutes.')
param alertIntervalMinutes int = 30
@description('A destination failing for a lead this many minutes is an alert.')
param alertFailingMinutes int = 3
@description('No lead for this many hours is an alert; blank for none.')
param alertQuietHours string = ''

@description('Client id of the Entra ID app registration that signs people in to the lead console; blank: the console answers 404.')
param consoleClientId string = ''
@description('App role values allowed into the console (comma-separated): create them on the console\'s app registration (App roles, member type Users/Groups) and assign them in Enterprise applications, Users and groups. Blank here and in consoleAllowedGroups: nobody, the console answers 404.')
param consoleAllowedRoles string = ''
@description('Object ids (GUIDs) of the Entra ID groups whose members may open the console (comma-separated); a group is named by its id, never its name.')
param consoleAllowedGroups string = ''
@description('The app role value whose holders may take the console\'s export with contact details, which imports again (create it on the console\'s app registration as for consoleAllowedRoles); blank: nobody.')
param consoleExportRole string = ''

@secure()
@description('Secrets, stored in Key Vault and referenced from the app settings; blank ones are not created.')
param webhookSecret string = ''
@secure()
param dynamicsClientSecret string = ''
@secure()
param marketoClientSecret string = ''
@secure()
param hubspotToken string = ''
@secure()
param salesforceClientSecret string = ''
@secure()
@description('Teams Workflows and Slack incoming-webhook URLs carry their own signature: kept as secrets.')
param teamsWebhookUrl string = ''
@secure()
param slackWebhookUrl string = ''
@secure()
param smtpPassword string = ''
@secure()
@description('Connection string of the storage account the marketplace writes notifySourceTable into (Partner Center uses an account key).')
param notifySourceConnection string = ''
@secure()
@description('Client secret of the console\'s app registration, for App Service Authentication.')
param consoleClientSecret string = ''

@description('Object id of the person or pipeline deploying, allowed to manage the Key Vault secrets later (rotation).')
param deployerPrincipalId string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))

// Every secret Key Vault holds, by its name there; a blank one is not stored.
var secrets = {
  'webhook-secret': webhookSecret
  'dynamics-client-secret': dynamicsClientSecret
  'marketo-client-secret': marketoClientSecret
  'hubspot-token': hubspotToken
  'smtp-password': smtpPassword
  'notify-source-connection': notifySourceConnection
  'console-client-secret': consoleClientSecret
  'salesforce-client-secret': salesforceClientSecret
  'teams-webhook-url': teamsWebhookUrl
  'slack-webhook-url': slackWebhookUrl
}
var storedSecretNames = map(filter(items(secrets), secret => !empty(secret.value)), secret => secret.key)
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: { name: 'id-${token}', location: location, tags: tags }
}

module monitoring 'app/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: { token: token, location: location, tags: tags, principalId: identity.outputs.principalId }
}

module storage 'app/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: { name: 'st${token}', location: location, tags: tags, principalId: identity.outputs.principalId }
}

module vault 'app/keyvault.bicep' = {
  scope: rg
  name: 'keyvault'
  params: {
    // Named after the identity's principal id, which is new whenever the identity is: after `azd down`
    // the old vault stays soft-deleted (purge protection) with its name taken, and `azd up` makes a new one.
    name: 'kv-${take(uniqueString(token, identity.outputs.principalId), 13)}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    secrets: secrets
  }
}

module email 'app/email.bicep' = if (enableEmail) {
  scope: rg
  name: 'email'
  params: { token: token, tags: tags, principalId: identity.outputs.principalId, dataLocation: emailDataLocation }
}

module api 'app/api.bicep' = {
  scope: rg
  name: 'api'
  params: {
    name: 'func-${token}'
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultUri: vault.outputs.uri
    secretNames: storedSecretNames
    acsEndpoint: enableEmail ? email!.outputs.endpoint : ''
    acsSender: enableEmail ? email!.outputs.senderAddress : ''
    leadDestinations: leadDestinations
    leadRoutes: leadRoutes
    notifyTo: notifyTo
    notifySchedule: notifySchedule
    notifyPii: notifyPii
    notifyFrom: notifyFrom
    notifySourceTable: notifySourceTable
    emailTransport: enableEmail ? 'acs' : (empty(smtpHost) ? '' : 'smtp')
    smtpHost: smtpHost
    smtpPort: smtpPort
    smtpSecure: smtpSecure
    smtpUser: smtpUser
    webhookUrl: webhookUrl
    webhookPing: webhookPing
    dynamicsUrl: dynamicsUrl
    dynamicsTenantId: dynamicsTenantId
    dynamicsClientId: dynamicsClientId
    salesforceOid: salesforceOid
    salesforceDomain: salesforceDomain
    salesforceClientId: salesforceClientId
    salesforceExternalIdField: salesforceExternalIdField
    marketoUrl: marketoUrl
    marketoClientId: marketoClientId
    dynamicsFields: dynamicsFields
    salesforceFields: salesforceFields
    marketoFields: marketoFields
    hubspotFields: hubspotFields
    alertTo: alertTo
    alertIntervalMinutes: alertIntervalMinutes
    alertFailingMinutes: alertFailingMinutes
    alertQuietHours: alertQuietHours
    consoleClientId: consoleClientId
    consoleAllowedRoles: consoleAllowedRoles
    consoleAllowedGroups: consoleAllowedGroups
    consoleExportRole: consoleExportRole
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output LEADS_ENDPOINT string = 'https://${api.outputs.defaultHostName}/api/leads'
output CONSOLE_URL string = 'https://${api.outputs.defaultHostName}/api/console'
output AZURE_STORAGE_ACCOUNT string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
