// Disabled functions: the app settings `AzureWebJobs.<name>.Disabled` and `AzureWebJobs_<name>_Disabled` (the
// form Linux allows), read as the WebJobs host reads them (HostListenerFactory.IsDisabled: setting names are
// case-insensitive; "true" or "1" in any case disables). A disabled function keeps its HTTP route but answers 404
// (FunctionInvocationMiddleware), and the Durable extension does not find it.
import { HostError } from './errors';
import { Registry } from './registry';

const SETTING = /^AzureWebJobs([._])(.+)\1Disabled$/i;

/**
 * Disable the functions the settings name; log each one as the host does ("Function 'x' is disabled").
 * A value the host would silently read as "enabled" (anything but true/false/1/0) stops the start instead, and
 * a setting naming no function is a warning.
 * @example applyDisabledSettings(app.registry, process.env, (level, message) => console.log(level, message));
 */
export function applyDisabledSettings(registry: Registry, settings: NodeJS.ProcessEnv, log: (level: 'information' | 'warning', message: string) => void): void {
  for (const [key, value] of Object.entries(settings)) {
    const m = SETTING.exec(key);
    if (!m || value === undefined) continue;
    const fn = registry.functions.get(m[2].toLowerCase());
    if (!/^(true|1|false|0|)$/i.test(value)) {
      throw new HostError(
        'Registration',
        `App setting '${key}' is '${value}': the Functions host disables a function only for 'true' or '1' (any case) and runs it for anything else. Set it to true or false (local.settings.json "Values", or the environment).`,
      );
    }
    if (!fn) {
      const names = [...registry.functions.values()].map((f) => f.name).join(', ') || 'none';
      log('warning', `App setting '${key}' names no function of this app, so it disables nothing (functions: ${names}).`);
      continue;
    }
    if (/^(true|1)$/i.test(value)) {
      registry.disable(fn.name);
      log('information', `Function '${fn.name}' is disabled`);
    }
  }
}
