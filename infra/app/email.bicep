// Optional: Azure Communication Services Email with an Azure-managed domain, and the right for the
// app's identity to send with it.
param token string
param tags object
@description('Identity that sends mail.')
param principalId string
@description('Where ACS keeps its data at rest (fixed once created).')
param dataLocation string

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'email-${token}'
  location: 'global'
  tags: tags
  properties: { dataLocation: dataLocation }
}

resource domain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

// 2025-09-01 is the first stable API version with disableLocalAuth (azure-rest-api-specs,
// Microsoft.Communication stable/2025-09-01 openapi.json): with it the access keys are off.
resource communication 'Microsoft.Communication/communicationServices@2025-09-01' = {
  name: 'acs-${token}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [domain.id]
    disableLocalAuth: true
  }
}

// Communication and Email Service Owner, the built-in role Microsoft names for sending with an Entra ID
// identity (its SMTP authentication page; no narrower role is documented for the Email REST API that
// @azure/communication-email calls). Its key actions give nothing here: local auth is off.
var emailServiceOwner = '09976791-48a7-449e-bb21-39d1a415f350'

resource canSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: communication
  name: guid(communication.id, principalId, emailServiceOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', emailServiceOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${communication.properties.hostName}'
output senderAddress string = 'DoNotReply@${domain.properties.mailFromSenderDomain}'
