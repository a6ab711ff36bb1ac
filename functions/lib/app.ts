// Loads the game and checks the settings once, before any function is registered: every functions/*.ts entry
// imports this first. On Azure a missing GAME_TOKEN_SECRET stops the app here with a clear message.
import '../../game';
import { sealRegistry } from '../../core/registry';
import { settings, tokenSecret } from '../../core/settings';
import { checkDeploymentSettings } from '../../core/deployment';

checkDeploymentSettings(); // storage, Key Vault references, the Durable backend: one line naming a bad setting
tokenSecret((message) => console.warn(`[evennia-durable] ${message}`));
settings.passwordCost(); // a test-only scrypt cost (below 17) stops the app on Azure
sealRegistry();
