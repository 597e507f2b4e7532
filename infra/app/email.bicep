// Optional: Azure Communication Services Email with an Azure-managed domain, and the right for the
// app's identity to send with it (a custom role with just the actions sending needs).
param token string
param tags object
@description('Identity that sends mail.')
param principalId string
@description('Where ACS keeps its data.')
param dataLocation string = 'United States'

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

resource sender 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'acs-email-sender')
  properties: {
    roleName: 'ACS email sender (${token})'
    description: 'Send e-mail through Azure Communication Services, nothing else.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        dataActions: []
      }
    ]
  }
}

resource canSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: communication
  name: guid(communication.id, principalId, sender.id)
  properties: {
    roleDefinitionId: sender.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${communication.properties.hostName}'
output senderAddress string = 'DoNotReply@${domain.properties.mailFromSenderDomain}'
