import type { AuthConfig } from '../../config/types.js';
import type { Member } from '../../topology/cluster-state.js';
import { emptyParams } from '../../wire/startup-params.js';
import { BackendLink } from '../backend/backend-link.js';
import { PasswordSessionSecret, TrustSessionSecret } from '../backend/auth/session-secret.js';
import type { BackendConnector } from '../backend/connector.js';

/**
 * A connection of the router's own to a member, as the auth_query role (it may read the
 * catalog and replay positions, nothing else): for the split listener's replay positions and
 * function catalog. Fixed startup parameters; nothing of a client's reaches it.
 */
export function openRouterConnection(member: Member, connector: BackendConnector, auth: AuthConfig, purpose: string): Promise<BackendLink> {
  const parameters = Object.assign(emptyParams(), { user: auth.user, database: auth.database, application_name: `patroni-router ${purpose}` });
  return BackendLink.open(member, {
    connector,
    parameters,
    secret: auth.password === undefined ? new TrustSessionSecret() : new PasswordSessionSecret(auth.password),
    timeoutMs: auth.timeoutMs,
  });
}
