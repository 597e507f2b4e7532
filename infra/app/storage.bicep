// The storage account: no shared keys, TLS 1.2, no public blobs. It holds the leads queue and its
// poison queue, the app's tables, and the deployment package container.
param name string
param location string
param tags object
@description('Identity that gets the three data roles.')
param principalId string

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'app-package'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource leadsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queues
  name: 'leads'
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queues
  name: 'leads-poison'
}

// One queue per destination, so that a destination that hangs or is down delays only itself.
resource destinationQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for destination in ['table', 'webhook', 'dynamics', 'salesforce', 'salesforce-api', 'marketo', 'hubspot', 'teams', 'slack']: {
  parent: queues
  name: 'leads-${destination}'
}]

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource leadsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in ['MarketplaceLeads', 'MarketplaceLeadsUpdates', 'MarketplaceLeadsStats', 'MarketplaceLeadsEmails', 'LeadAnonymousPosts', 'LeadDeliveries', 'LeadDeliveriesAttention', 'LeadNotifications']: {
  parent: tables
  name: table
}]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [storageBlobDataOwner, storageQueueDataContributor, storageTableDataContributor]: {
  scope: account
  name: guid(account.id, principalId, role)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output name string = account.name
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deployments.name}'
