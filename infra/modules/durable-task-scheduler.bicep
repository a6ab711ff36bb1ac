// The Durable Task Scheduler (durableBackend = durableTaskScheduler): a scheduler and one task hub named as in
// host.json (extensions.durableTask.hubName), so the app needs no hubName override.
param name string
param location string
param tags object
@allowed(['Consumption', 'Dedicated'])
param skuName string

var hubName = loadJsonContent('../../host.json').extensions.durableTask.hubName

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ['0.0.0.0/0']
    sku: skuName == 'Dedicated' ? { name: 'Dedicated', capacity: 1 } : { name: 'Consumption' }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: hubName
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
