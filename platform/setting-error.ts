// The error every platform/ check throws: a setting that is missing or malformed, with a one-line message that names
// the setting and the form it should take (never the value, which may hold a key).

/** Stable codes of SettingError. */
export type SettingErrorCode =
  /** A required setting is not set. */
  | 'MissingSetting'
  /** A setting is set but cannot work: wrong form, an unresolved Key Vault reference, an emulator's value on Azure... */
  | 'InvalidSetting';

/**
 * A missing or malformed app setting. Match on `code`, not `instanceof`.
 * @example if ((err as { code?: string }).code === 'MissingSetting') stop(err.message);
 */
export class SettingError extends Error {
  constructor(
    readonly code: SettingErrorCode,
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingError';
  }
}

/** Values the platform leaves in a setting when it cannot resolve a Key Vault reference. */
export const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\(/i;

/**
 * The error for a setting that still holds `@Microsoft.KeyVault(...)`: App Service puts the reference itself in the
 * setting when it cannot resolve it.
 * @example if (KEY_VAULT_REFERENCE.test(v)) throw unresolvedKeyVaultReference('GAME_TOKEN_SECRET');
 */
export function unresolvedKeyVaultReference(setting: string): SettingError {
  return new SettingError(
    'InvalidSetting',
    setting,
    `${setting} is an unresolved Key Vault reference (@Microsoft.KeyVault(...)): the app's identity cannot read the secret. ` +
      `Grant that identity "Key Vault Secrets User" on the vault and set the app's keyVaultReferenceIdentity to it (infra/ does both), then restart the app.`,
  );
}
