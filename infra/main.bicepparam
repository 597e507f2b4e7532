// What azd passes to main.bicep: each parameter read from the azd environment (`azd env set NAME value`).
// azd compiles this file with `bicep build-params`, its environment in the compiler's (azure-dev
// cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go, compileBicep; pkg/tools/bicep/bicep.go,
// BuildBicepParam), and uses main.parameters.json only when this file is missing. readEnvironmentVariable
// hands Bicep each value as it was set, so JSON (LEAD_ROUTES, *_FIELDS) and secrets holding quotes,
// backslashes or line breaks arrive intact: azd's ${NAME} substitution in main.parameters.json pastes
// values into JSON text unescaped, which breaks on the first quote (Azure/azure-dev#5507).
// A fallback here is main.bicep's default; test/unit/infra.test.ts checks that they agree.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')

param leadDestinations = readEnvironmentVariable('LEAD_DESTINATIONS', 'table')
param leadRoutes = readEnvironmentVariable('LEAD_ROUTES', '')

param notifyTo = readEnvironmentVariable('NOTIFY_TO', '')
param notifyFrom = readEnvironmentVariable('NOTIFY_FROM', '')
param notifySchedule = readEnvironmentVariable('NOTIFY_SCHEDULE', '0 */5 * * * *')
param notifyPii = readEnvironmentVariable('NOTIFY_PII', 'masked')
param notifySourceTable = readEnvironmentVariable('NOTIFY_SOURCE_TABLE', '')
param notifySourceConnection = readEnvironmentVariable('NOTIFY_SOURCE_CONNECTION', '')

// A number or a switch left blank takes main.bicep's default; anything else that is not one fails
// the compilation, naming the parameter.
var enableEmailText = readEnvironmentVariable('ENABLE_EMAIL', '')
param enableEmail = empty(enableEmailText) ? true : bool(enableEmailText)
param emailDataLocation = readEnvironmentVariable('EMAIL_DATA_LOCATION', 'United States')
param smtpHost = readEnvironmentVariable('SMTP_HOST', '')
var smtpPortText = readEnvironmentVariable('SMTP_PORT', '')
param smtpPort = empty(smtpPortText) ? 587 : int(smtpPortText)
var smtpSecureText = readEnvironmentVariable('SMTP_SECURE', '')
param smtpSecure = empty(smtpSecureText) ? false : bool(smtpSecureText)
param smtpUser = readEnvironmentVariable('SMTP_USER', '')
param smtpPassword = readEnvironmentVariable('SMTP_PASSWORD', '')

param webhookUrl = readEnvironmentVariable('WEBHOOK_URL', '')
var webhookPingText = readEnvironmentVariable('WEBHOOK_PING', '')
param webhookPing = empty(webhookPingText) ? false : bool(webhookPingText)
param webhookSecret = readEnvironmentVariable('WEBHOOK_SECRET', '')
param dynamicsUrl = readEnvironmentVariable('DYNAMICS_URL', '')
param dynamicsTenantId = readEnvironmentVariable('DYNAMICS_TENANT_ID', '')
param dynamicsClientId = readEnvironmentVariable('DYNAMICS_CLIENT_ID', '')
param dynamicsClientSecret = readEnvironmentVariable('DYNAMICS_CLIENT_SECRET', '')
param dynamicsFields = readEnvironmentVariable('DYNAMICS_FIELDS', '')
param salesforceOid = readEnvironmentVariable('SALESFORCE_OID', '')
param salesforceDomain = readEnvironmentVariable('SALESFORCE_DOMAIN', '')
param salesforceClientId = readEnvironmentVariable('SALESFORCE_CLIENT_ID', '')
param salesforceClientSecret = readEnvironmentVariable('SALESFORCE_CLIENT_SECRET', '')
param salesforceExternalIdField = readEnvironmentVariable('SALESFORCE_EXTERNAL_ID_FIELD', '')
param salesforceFields = readEnvironmentVariable('SALESFORCE_FIELDS', '')
param marketoUrl = readEnvironmentVariable('MARKETO_URL', '')
param marketoClientId = readEnvironmentVariable('MARKETO_CLIENT_ID', '')
param marketoClientSecret = readEnvironmentVariable('MARKETO_CLIENT_SECRET', '')
param marketoFields = readEnvironmentVariable('MARKETO_FIELDS', '')
param hubspotToken = readEnvironmentVariable('HUBSPOT_TOKEN', '')
param hubspotFields = readEnvironmentVariable('HUBSPOT_FIELDS', '')
param teamsWebhookUrl = readEnvironmentVariable('TEAMS_WEBHOOK_URL', '')
param slackWebhookUrl = readEnvironmentVariable('SLACK_WEBHOOK_URL', '')

param alertTo = readEnvironmentVariable('ALERT_TO', '')
var alertIntervalText = readEnvironmentVariable('ALERT_INTERVAL_MINUTES', '')
param alertIntervalMinutes = empty(alertIntervalText) ? 30 : int(alertIntervalText)
var alertFailingText = readEnvironmentVariable('ALERT_FAILING_MINUTES', '')
param alertFailingMinutes = empty(alertFailingText) ? 3 : int(alertFailingText)
param alertQuietHours = readEnvironmentVariable('ALERT_QUIET_HOURS', '')

param consoleClientId = readEnvironmentVariable('CONSOLE_CLIENT_ID', '')
param consoleClientSecret = readEnvironmentVariable('CONSOLE_CLIENT_SECRET', '')
param consoleAllowedRoles = readEnvironmentVariable('CONSOLE_ALLOWED_ROLES', '')
param consoleAllowedGroups = readEnvironmentVariable('CONSOLE_ALLOWED_GROUPS', '')
param consoleExportRole = readEnvironmentVariable('CONSOLE_EXPORT_ROLE', '')
