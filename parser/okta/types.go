package okta

import (
	"strings"

	"github.com/reposentry/reposentry"
)

// category maps an Okta eventType to a normalized category. Names are from
// Okta's event type catalogue (developer.okta.com/docs/reference/api/event-types).
// Unknown types are kept as category other.
//
// Decisions worth knowing:
//   - Every user.authentication.* type is a login step (SSO into an app,
//     MFA verification, IdP and agent authentications), as are the session
//     start and admin-console access. A denied Okta Verify push is a failed
//     login, which is what MFA-fatigue attacks produce; the push being sent
//     is not a login and stays other.
//   - Password resets stay other: routine password changes would otherwise
//     drown factor resets, which are the account-takeover signal.
//   - Group and application assignments and admin privilege grants decide
//     what an account can reach, so they are permission changes either way.
func category(action string) reposentry.Category {
	switch action {
	case "user.session.start", "user.session.access_admin_app", "user.mfa.okta_verify.deny_push":
		return reposentry.CategoryLogin
	case "user.account.privilege.grant", "user.account.privilege.revoke",
		"group.privilege.grant", "group.privilege.revoke",
		"group.user_membership.add", "group.user_membership.remove",
		"application.user_membership.add", "application.user_membership.remove",
		"application.user_membership.change_username",
		"user.session.impersonation.grant":
		return reposentry.CategoryPermissionChange
	case "system.api_token.create":
		return reposentry.CategoryCredentialCreate
	}
	switch {
	case strings.HasPrefix(action, "user.authentication."):
		return reposentry.CategoryLogin
	case strings.HasPrefix(action, "user.mfa.factor."):
		return reposentry.CategoryMFAChange
	case strings.HasPrefix(action, "app.oauth2.") && strings.Contains(action, "token.grant"):
		// app.oauth2.as.token.grant, ….grant.access_token, ….refresh_token,
		// app.oauth2.token.grant: a token was issued to a client.
		return reposentry.CategoryCredentialCreate
	case strings.HasPrefix(action, "policy.lifecycle.") || strings.HasPrefix(action, "policy.rule.") ||
		strings.HasPrefix(action, "zone."):
		return reposentry.CategorySettingsChange
	}
	return reposentry.CategoryOther
}
