// The game on Azure, for the Azure Developer CLI (`azd up` provisions this, then deploys the package `npm run
// package` builds): one resource group holding a Function App (Flex Consumption, or Elastic Premium), its storage
// account reached only by managed identity, Application Insights, a Key Vault holding the token secret, and the
// Durable backend chosen by `durableBackend`. `azd down` deletes the resource group and everything in it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and tags every resource.')
param environmentName string

@minLength(1)
@description('Region of every resource; pick one that offers the Flex Consumption plan.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Hosting plan: FC1 (Flex Consumption, the default) or EP1, EP2, EP3 (Elastic Premium).')
@allowed(['FC1', 'EP1', 'EP2', 'EP3'])
param planSku string = 'FC1'

@description('Node.js major version of the Functions worker.')
@allowed(['22'])
param nodeVersion string = '22'

@description('Flex Consumption: memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to (Flex Consumption: 40 to 1000; Elastic Premium: maximum burst).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the http group (player requests); Elastic Premium uses the larger of the two as its minimum.')
@minValue(0)
@maxValue(20)
param alwaysReadyHttp int = 1

@description('Always-ready instances for the durable group (orchestrations and activities); Microsoft advises 1 on Flex Consumption.')
@minValue(0)
@maxValue(20)
param alwaysReadyDurable int = 1

@description('Durable backend: azureStorage (default, queues polled at most every second), durableTaskScheduler (push-based, highest throughput) or mssql (an existing Azure SQL database).')
@allowed(['azureStorage', 'durableTaskScheduler', 'mssql'])
param durableBackend string = 'azureStorage'

@description('Durable Task Scheduler SKU when durableBackend is durableTaskScheduler.')
@allowed(['Consumption', 'Dedicated'])
param schedulerSku string = 'Consumption'

@description('mssql backend: the Azure SQL server host name (myserver.database.windows.net); the app identity must be a user of the database.')
param mssqlServer string = ''

@description('mssql backend: the database name.')
param mssqlDatabase string = ''

@secure()
@description('Secret that signs player tokens. azd generates it once per environment (64 letters and digits) and keeps it in the environment; it is stored in Key Vault, never in app settings.')
@metadata({ azd: { type: 'generate', config: { length: 64, noSpecial: true } } })
param gameTokenSecret string

@secure()
@description('Key of the operator routes (/api/operator). azd generates it once per environment (64 letters and digits) and keeps it in the environment; it is stored in Key Vault, never in app settings.')
@metadata({ azd: { type: 'generate', config: { length: 64, noSpecial: true } } })
param gameOperatorKey string

@description('GAME_TOKEN_TTL_SECONDS: how long a player token is valid.')
@minValue(60)
param gameTokenTtlSeconds int = 86400

@description('GAME_SIGNUPS_PER_HOUR: accounts one client address may create an hour.')
@minValue(1)
param gameSignupsPerHour int = 20

@description('GAME_MESSAGE_RETENTION_SECONDS: how long outbox messages are kept.')
@minValue(60)
param gameMessageRetentionSeconds int = 86400

@description('GAME_TABLE_PREFIX: prefix of the game table names, to share one account between apps (letters and digits).')
@maxLength(20)
param gameTablePrefix string = ''

@description('Object id of the deployer (azd sets it): may read the Durable Task Scheduler dashboard.')
param principalId string = ''

var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'resources'
  scope: rg
  params: {
    location: location
    tags: tags
    planSku: planSku
    nodeVersion: nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttp: alwaysReadyHttp
    alwaysReadyDurable: alwaysReadyDurable
    durableBackend: durableBackend
    schedulerSku: schedulerSku
    mssqlServer: mssqlServer
    mssqlDatabase: mssqlDatabase
    gameTokenSecret: gameTokenSecret
    gameOperatorKey: gameOperatorKey
    gameTokenTtlSeconds: gameTokenTtlSeconds
    gameSignupsPerHour: gameSignupsPerHour
    gameMessageRetentionSeconds: gameMessageRetentionSeconds
    gameTablePrefix: gameTablePrefix
    principalId: principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output AZURE_KEY_VAULT_NAME string = resources.outputs.keyVaultName
output AZURE_STORAGE_ACCOUNT_NAME string = resources.outputs.storageAccountName
output APPLICATIONINSIGHTS_NAME string = resources.outputs.applicationInsightsName
output GAME_URL string = 'https://${resources.outputs.defaultHostName}/api/play'
output GAME_PACKAGE_BLOB_URL string = resources.outputs.packageBlobUrl
