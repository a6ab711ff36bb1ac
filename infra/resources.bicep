// Everything in the game's resource group: the app's user-assigned identity (created first, so its roles exist
// before the app first reads storage or its Key Vault reference), then storage, monitoring, Key Vault, the optional
// Durable Task Scheduler, the role assignments, and the Function App itself.
param location string
param tags object
param planSku string
param nodeVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param alwaysReadyHttp int
param alwaysReadyDurable int
param durableBackend string
param schedulerSku string
param mssqlServer string
param mssqlDatabase string
@secure()
param gameTokenSecret string
@secure()
param gameOperatorKey string
param gameTokenTtlSeconds int
param gameSignupsPerHour int
param gameMessageRetentionSeconds int
param gameTablePrefix string
param principalId string

// Names: a short token unique per subscription, resource group and region, as the azd templates make them.
var token = toLower(uniqueString(subscription().id, resourceGroup().id, location))
var functionAppName = 'func-${token}'
var deploymentContainerName = 'app-package-${token}'
var useScheduler = durableBackend == 'durableTaskScheduler'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${token}'
  location: location
  tags: tags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${token}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${token}'
    applicationInsightsName: 'appi-${token}'
    location: location
    tags: tags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'keyVault'
  params: {
    name: 'kv-${token}'
    location: location
    tags: tags
    gameTokenSecret: gameTokenSecret
    gameOperatorKey: gameOperatorKey
  }
}

module scheduler 'modules/durable-task-scheduler.bicep' = if (useScheduler) {
  name: 'scheduler'
  params: {
    name: 'dts-${token}'
    location: location
    tags: tags
    skuName: schedulerSku
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    identityPrincipalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    schedulerName: useScheduler ? scheduler.outputs.name : ''
    deployerPrincipalId: principalId
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  dependsOn: [roles]
  params: {
    name: functionAppName
    planName: 'plan-${token}'
    location: location
    tags: tags
    planSku: planSku
    nodeVersion: nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttp: alwaysReadyHttp
    alwaysReadyDurable: alwaysReadyDurable
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    tokenSecretUri: keyVault.outputs.tokenSecretUri
    operatorKeyUri: keyVault.outputs.operatorKeyUri
    durableBackend: durableBackend
    schedulerEndpoint: useScheduler ? scheduler.outputs.endpoint : ''
    mssqlServer: mssqlServer
    mssqlDatabase: mssqlDatabase
    gameTokenTtlSeconds: gameTokenTtlSeconds
    gameSignupsPerHour: gameSignupsPerHour
    gameMessageRetentionSeconds: gameMessageRetentionSeconds
    gameTablePrefix: gameTablePrefix
  }
}

output functionAppName string = functionApp.outputs.name
output defaultHostName string = functionApp.outputs.defaultHostName
output packageBlobUrl string = functionApp.outputs.packageBlobUrl
output keyVaultName string = keyVault.outputs.name
output storageAccountName string = storage.outputs.name
output applicationInsightsName string = monitoring.outputs.applicationInsightsName
