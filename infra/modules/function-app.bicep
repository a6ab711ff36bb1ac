// The Function App: Node on Linux, HTTPS only, run by the user-assigned identity (storage, Key Vault references,
// telemetry, the Durable backend: no keys anywhere). Flex Consumption (FC1) by default, with always-ready instances
// for the http and durable groups and the package in a blob container; Elastic Premium (EP1-EP3) runs the package
// from that container by URL, since its Azure Files content share would need a storage key.
param name string
param planName string
param location string
param tags object
param planSku string
param nodeVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param alwaysReadyHttp int
param alwaysReadyDurable int
param identityId string
param identityClientId string
param storageAccountName string
param blobEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string
param tokenSecretUri string
param operatorKeyUri string
param durableBackend string
param schedulerEndpoint string
param mssqlServer string
param mssqlDatabase string
param gameTokenTtlSeconds int
param gameSignupsPerHour int
param gameMessageRetentionSeconds int
param gameTablePrefix string

var isFlex = planSku == 'FC1'
// Elastic Premium runs this blob (uploaded by the commands in the README) instead of an Azure Files share.
var packageBlobUrl = '${blobEndpoint}${deploymentContainerName}/evennia-durable.zip'

// Every app setting the app, the Functions host or host.json reads; test/deploy/settings.test.ts checks this list
// against the code and local.settings.example.json. Values are never secrets: the secrets are Key Vault references.
var commonSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  GAME_TOKEN_SECRET: '@Microsoft.KeyVault(SecretUri=${tokenSecretUri})'
  GAME_OPERATOR_KEY: '@Microsoft.KeyVault(SecretUri=${operatorKeyUri})'
  GAME_TOKEN_TTL_SECONDS: string(gameTokenTtlSeconds)
  GAME_MESSAGE_RETENTION_SECONDS: string(gameMessageRetentionSeconds)
  // scrypt at N=2^17, OWASP's minimum; the app refuses anything lower on Azure.
  GAME_PASSWORD_COST: '17'
  GAME_SIGNUPS_PER_HOUR: string(gameSignupsPerHour)
  GAME_TABLE_PREFIX: gameTablePrefix
  // Per-player limits (README, Settings): the defaults, written out so they can be changed in the portal.
  GAME_MAX_TASKS_PER_PLAYER: '100'
  GAME_MAX_COMMANDS_PER_PLAYER: '10'
  GAME_MAX_DELAY_SECONDS: '31536000'
  GAME_INPUT_RATE: '10'
  GAME_INPUT_BURST: '30'
  // GET /api/stream: how long one stream stays open (under the front end's 230 s), its keepalive interval, and how
  // many one player may hold open on one instance.
  GAME_STREAM_SECONDS: '120'
  GAME_STREAM_HEARTBEAT_SECONDS: '15'
  GAME_MAX_STREAMS_PER_PLAYER: '5'
  GAME_DEV_COMMANDS: '0'
}
// Flex Consumption sets the runtime in functionAppConfig; these settings are for Elastic Premium only.
var premiumSettings = isFlex ? {} : {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'node'
  WEBSITE_RUN_FROM_PACKAGE: packageBlobUrl
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}
// The backend switch: host.json stays on Azure Storage; these app settings override its storageProvider
// (infra/durable/*.json, the same files the README shows for local use) and add the connection they name.
var schedulerSettings = durableBackend == 'durableTaskScheduler' ? union(loadJsonContent('../durable/durable-task-scheduler.json'), {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
}) : {}
var mssqlSettings = durableBackend == 'mssql' ? union(loadJsonContent('../durable/mssql.json'), {
  SQLDB_Connection: 'Server=tcp:${mssqlServer},1433;Database=${mssqlDatabase};Authentication=Active Directory Managed Identity;User Id=${identityClientId};Encrypt=True'
}) : {}
var appSettings = union(commonSettings, premiumSettings, schedulerSettings, mssqlSettings)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: planSku, tier: 'ElasticPremium' }
  properties: isFlex ? { reserved: true } : { reserved: true, maximumElasticWorkerCount: maximumInstanceCount }
}

var flexConfig = {
  functionAppConfig: {
    deployment: {
      storage: {
        type: 'blobContainer'
        value: '${blobEndpoint}${deploymentContainerName}'
        authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
      }
    }
    scaleAndConcurrency: {
      instanceMemoryMB: instanceMemoryMB
      maximumInstanceCount: maximumInstanceCount
      alwaysReady: [
        { name: 'http', instanceCount: alwaysReadyHttp }
        { name: 'durable', instanceCount: alwaysReadyDurable }
      ]
    }
    runtime: { name: 'node', version: nodeVersion }
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: union({
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: union({
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }, isFlex ? {} : {
      linuxFxVersion: 'Node|${nodeVersion}'
      minimumElasticInstanceCount: max(alwaysReadyHttp, alwaysReadyDurable, 1)
      functionsRuntimeScaleMonitoringEnabled: true
    })
  }, isFlex ? flexConfig : {})
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output packageBlobUrl string = isFlex ? '' : packageBlobUrl
