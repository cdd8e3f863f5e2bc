package github

import (
	"strings"

	"github.com/reposentry/reposentry"
)

// detailKind says which field carries an action's most useful extra value.
type detailKind uint8

const (
	detailNone       detailKind = iota
	detailVisibility            // the new visibility
	detailTeam                  // the team name
	detailKey                   // SSH or deploy key title, else fingerprint
	detailApp                   // OAuth application or GitHub App name
	detailToken                 // fine-grained token name
	detailPermission            // the permission or role granted
)

// actionInfo is what the parser knows about one action name.
type actionInfo struct {
	cat    reposentry.Category
	detail detailKind
	fail   bool // the action records a failure (user.failed_login, ...)
	// visibilityIfSet upgrades the category to visibility_change when the
	// event carries a visibility (repo.update changes many settings, one of
	// which is visibility).
	visibilityIfSet bool
}

// Action names are GitHub's, from the audit log event catalogue
// (github/docs src/audit-logs/data/shared/entries.json) plus a few older or
// observed names (repo.update, deploy_key.*) kept for GHES and re-emitters.
//
// Decisions worth knowing:
//   - repo.transfer* is permission_change: a transfer moves the repository
//     (and who can read it) to another account without touching its
//     visibility flag, which is how a transfer exfiltrates.
//   - migration.download is archive_download: a migration archive carries the
//     full contents of the repositories it covers.
//   - repo.add_member and other grants of access to repositories are
//     permission_change; joining or leaving an organisation, team or
//     enterprise is membership_change.
var actions = map[string]actionInfo{}

func init() {
	add := func(cat reposentry.Category, d detailKind, names ...string) {
		for _, n := range names {
			actions[n] = actionInfo{cat: cat, detail: d}
		}
	}
	add(reposentry.CategoryClone, detailNone, "git.clone")
	add(reposentry.CategoryFetch, detailNone, "git.fetch")
	add(reposentry.CategoryPush, detailNone, "git.push")
	add(reposentry.CategoryArchiveDownload, detailNone, "repo.download_zip", "migration.download")

	add(reposentry.CategoryVisibilityChange, detailVisibility,
		"repo.access", "repo.change_visibility", "gist.visibility_change",
		"repo.pages_public", "repo.pages_private")

	add(reposentry.CategorySettingsChange, detailVisibility,
		"repo.create", "repo.destroy", "repo.rename", "repo.archived", "repo.unarchived", "repo.restore")
	actions["repo.update"] = actionInfo{cat: reposentry.CategorySettingsChange, detail: detailVisibility, visibilityIfSet: true}

	add(reposentry.CategoryPermissionChange, detailNone,
		"repo.transfer", "repo.transfer_outgoing", "repo.transfer_start", "repo.temporary_access_granted")
	add(reposentry.CategoryPermissionChange, detailPermission,
		"repo.add_member", "repo.remove_member", "repo.update_member",
		"org.update_member", "org.update_default_repository_permission",
		"business.update_default_repository_permission", "business.clear_default_repository_permission",
		"organization_role.assign", "organization_role.revoke",
		"enterprise_role.assign", "enterprise_role.revoke",
		"org.add_security_manager", "org.remove_security_manager",
		"project_collaborator.add", "project_collaborator.update")
	add(reposentry.CategoryPermissionChange, detailTeam,
		"team.add_repository", "team.remove_repository", "team.update_repository_permission",
		"team.promote_maintainer", "team.demote_maintainer", "team.change_parent_team")

	add(reposentry.CategoryMembershipChange, detailNone,
		"org.add_member", "org.remove_member", "org.invite_member", "org.cancel_invitation",
		"org.restore_member", "org.add_outside_collaborator", "org.remove_outside_collaborator",
		"org.add_billing_manager", "org.remove_billing_manager",
		"business.add_admin", "business.remove_admin", "business.invite_admin",
		"business.add_billing_manager", "business.remove_billing_manager",
		"business.remove_member", "business.invite_unaffiliated_member",
		"business.add_organization", "business.remove_organization",
		"repository_invitation.create", "repository_invitation.accept",
		"repository_invitation.cancel", "repository_invitation.reject",
		"external_group.add_member", "external_group.remove_member",
		"external_identity.provision", "external_identity.deprovision")
	add(reposentry.CategoryMembershipChange, detailTeam,
		"team.add_member", "team.remove_member", "team.create", "team.destroy",
		"team.add_to_organization", "team.remove_from_organization",
		"enterprise_team.add_member", "enterprise_team.remove_member",
		"external_group.link", "external_group.unlink")
	add(reposentry.CategorySettingsChange, detailTeam, "team.rename", "team.change_privacy")

	add(reposentry.CategoryCredentialCreate, detailKey, "public_key.create", "deploy_key.create")
	add(reposentry.CategoryCredentialCreate, detailApp,
		"oauth_authorization.create", "oauth_access.create", "oauth_access.regenerate",
		"integration_installation.create", "integration.generate_client_secret",
		"oauth_application.generate_client_secret", "oauth_application.reset_secret")
	add(reposentry.CategoryCredentialCreate, detailNone, "org_credential_authorization.grant")
	add(reposentry.CategoryCredentialCreate, detailToken,
		"personal_access_token.request_created", "personal_access_token.access_granted",
		"personal_access_token.create", "personal_access_token.credential_regenerated")

	add(reposentry.CategoryPermissionChange, detailKey,
		"public_key.delete", "public_key.update", "public_key.verify", "public_key.unverify",
		"deploy_key.destroy", "deploy_key.delete")
	add(reposentry.CategoryPermissionChange, detailApp,
		"oauth_authorization.destroy", "oauth_authorization.update",
		"oauth_access.destroy", "oauth_access.revoke", "oauth_access.update",
		"integration_installation.destroy", "integration_installation.suspend",
		"integration_installation.unsuspend", "integration_installation.version_updated",
		"integration_installation.repositories_added", "integration_installation.repositories_removed",
		"org.oauth_app_access_approved", "org.oauth_app_access_denied", "org.oauth_app_access_requested",
		"org.oauth_app_access_blocked", "org.oauth_app_access_unblocked",
		"oauth_application.revoke_tokens", "oauth_application.revoke_all_tokens",
		"integration.revoke_tokens", "integration.revoke_all_tokens")
	add(reposentry.CategoryPermissionChange, detailNone,
		"org_credential_authorization.revoke", "org_credential_authorization.deauthorize")
	add(reposentry.CategoryPermissionChange, detailToken,
		"personal_access_token.access_revoked", "personal_access_token.request_denied",
		"personal_access_token.request_cancelled", "personal_access_token.destroy",
		"personal_access_token.update", "personal_access_token.credential_revoked")

	add(reposentry.CategorySettingsChange, detailNone,
		"private_repository_forking.enable", "private_repository_forking.disable", "private_repository_forking.clear",
		"org.enable_two_factor_requirement", "org.disable_two_factor_requirement",
		"business.enable_two_factor_requirement", "business.disable_two_factor_requirement",
		"org.add_disallowed_two_factor_method", "org.remove_disallowed_two_factor_method",
		"org.clear_disallowed_two_factor_methods",
		"business.add_disallowed_two_factor_method", "business.remove_disallowed_two_factor_method",
		"business.clear_disallowed_two_factor_methods",
		"org.enable_saml", "org.disable_saml", "org.update_saml_provider_settings",
		"business.enable_saml", "business.disable_saml", "business.update_saml_provider_settings",
		"business.enable_oidc", "business.disable_oidc",
		"org.revoke_sso_session", "business.revoke_sso_session",
		"org.revoke_external_identity", "business.revoke_external_identity",
		"sso_lockdown.enable", "sso_lockdown.disable", "sso_redirect.enable", "sso_redirect.disable",
		"org.enable_source_ip_disclosure", "org.disable_source_ip_disclosure",
		"business.enable_source_ip_disclosure", "business.disable_source_ip_disclosure",
		"org.enable_oauth_app_restrictions", "org.disable_oauth_app_restrictions",
		"ip_allow_list.enable", "ip_allow_list.disable",
		"ip_allow_list.enable_for_installed_apps", "ip_allow_list.disable_for_installed_apps",
		"ip_allow_list.enable_idp_ip_allowlist_for_web", "ip_allow_list.disable_idp_ip_allowlist_for_web",
		"ip_allow_list.enable_skip_idp_ip_allowlist_app_access", "ip_allow_list.disable_skip_idp_ip_allowlist_app_access",
		"ip_allow_list.enable_user_level_enforcement", "ip_allow_list.disable_user_level_enforcement",
		"ip_allow_list.update_ip_allowlist_configuration",
		"ip_allow_list_entry.create", "ip_allow_list_entry.update", "ip_allow_list_entry.destroy",
		"audit_log_streaming.create", "audit_log_streaming.update", "audit_log_streaming.destroy",
		"audit_log_streaming.check",
		"org.audit_log_export", "org.audit_log_git_event_export",
		"business.audit_log_export", "business.audit_log_git_event_export", "user.audit_log_export",
		"org.recovery_codes_downloaded", "org.recovery_codes_generated",
		"org.recovery_codes_printed", "org.recovery_codes_viewed",
		"business.recovery_codes_downloaded", "business.recovery_codes_generated",
		"business.recovery_codes_printed", "business.recovery_codes_viewed",
		"personal_access_token.expiration_limit_set", "personal_access_token.expiration_limit_unset",
		"personal_access_token.access_restriction_enabled", "personal_access_token.access_restriction_disabled",
		"personal_access_token.access_restriction_reset",
		"personal_access_token.auto_approve_grant_requests_enabled",
		"personal_access_token.auto_approve_grant_requests_disabled",
		"personal_access_token.auto_approve_grant_requests_reset",
		"auto_approve_personal_access_token_requests.enable", "auto_approve_personal_access_token_requests.disable",
		"ssh_certificate_requirement.enable", "ssh_certificate_requirement.disable",
		"ssh_certificate_authority.create", "ssh_certificate_authority.destroy",
		"members_can_delete_repos.enable", "members_can_delete_repos.disable", "members_can_delete_repos.clear",
		"org.update_member_repository_creation_permission", "org.update_member_repository_invitation_permission",
		"business.update_member_repository_creation_permission",
		"business.update_member_repository_invitation_permission",
		"hook.create", "hook.destroy", "hook.config_changed", "hook.events_changed", "hook.active_changed",
		"protected_branch.create", "protected_branch.destroy", "protected_branch.policy_override",
		"repository_ruleset.create", "repository_ruleset.update", "repository_ruleset.destroy")

	add(reposentry.CategoryLogin, detailNone,
		"org.sso_response", "business.sso_response",
		"user.login", "user.failed_login", "user.new_device_used",
		"user.sign_in_from_unrecognized_device", "user.sign_in_from_unrecognized_device_and_location",
		"user.sign_in_from_unrecognized_location",
		"user.correct_password_from_unrecognized_device",
		"user.correct_password_from_unrecognized_device_and_location",
		"user.correct_password_from_unrecognized_location",
		"user.two_factor_challenge_success", "user.two_factor_challenge_failure",
		"user.device_verification_success", "user.device_verification_failure",
		"user.two_factor_recover",
		"org.recovery_code_used", "org.recovery_code_failed",
		"business.recovery_code_used", "business.recovery_code_failed")

	add(reposentry.CategoryMFAChange, detailNone,
		"two_factor_authentication.enabled", "two_factor_authentication.disabled",
		"two_factor_authentication.add_factor", "two_factor_authentication.remove_factor",
		"two_factor_authentication.recovery_codes_regenerated", "two_factor_authentication.update_fallback",
		"two_factor_account_recovery.complete", "two_factor_account_recovery.two_factor_destroy",
		"passkey.register", "passkey.remove", "security_key.register", "security_key.remove")

	// Actions that log a failed attempt.
	for _, n := range []string{
		"user.failed_login", "user.two_factor_challenge_failure", "user.device_verification_failure",
		"org.recovery_code_failed", "business.recovery_code_failed",
		"public_key.verification_failure", "public_key.unverification_failure",
		"external_identity.scim_api_failure", "external_group.scim_api_failure",
		"business.proxy_security_header_unsatisfied", "protected_branch.rejected_ref_update",
		"business.trial_email_verification_failed",
	} {
		info := actions[n]
		info.fail = true
		actions[n] = info
	}
}

// maxLearned bounds the cache of actions missing from the table, so a stream
// of garbage action names cannot grow it without limit.
const maxLearned = 4096

// lookup returns the info for an interned action name. Names missing from the
// table are classified once by their shape and remembered.
func (p *Platform) lookup(action string) actionInfo {
	if info, ok := actions[action]; ok {
		return info
	}
	if info, ok := p.learned[action]; ok {
		return info
	}
	info := guess(action)
	if len(p.learned) < maxLearned {
		p.learned[action] = info
	}
	return info
}

// guess classifies an action GitHub added after the table was written.
func guess(action string) actionInfo {
	var info actionInfo
	op := action
	if i := strings.LastIndexByte(action, '.'); i >= 0 {
		op = action[i+1:]
	}
	switch {
	case strings.HasPrefix(action, "two_factor_authentication."):
		info.cat = reposentry.CategoryMFAChange
	case strings.HasSuffix(op, "change_visibility") || strings.HasSuffix(op, "visibility_change") ||
		strings.HasSuffix(op, "update_visibility"):
		info.cat, info.detail = reposentry.CategoryVisibilityChange, detailVisibility
	}
	if strings.Contains(op, "fail") {
		info.fail = true
	}
	return info
}
