// Loads the game and checks the settings once, before any function is registered: every functions/*.ts entry
// imports this first. On Azure a missing GAME_TOKEN_SECRET stops the app here with a clear message.
import { app } from '@azure/functions';
import '../../game';
import { sealRegistry } from '../../core/registry';
import { settings, tokenSecret } from '../../core/settings';
import { checkDeploymentSettings } from '../../core/deployment';

checkDeploymentSettings(); // storage, Key Vault references, the Durable backend: one line naming a bad setting
tokenSecret((message) => console.warn(`[evennia-durable] ${message}`));
settings.passwordCost(); // a test-only scrypt cost (below 17) stops the app on Azure
sealRegistry();
// GET /api/stream sends its body as it is made. Streaming is a setting of the whole app: every route's request
// then comes through the worker's HTTP proxy, and request.params also carries the query's values (the routes
// here read only their route values, which win over query values of the same name).
app.setup({ enableHttpStream: true });
