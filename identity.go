package reposentry

// Identity is a person (or a bot) behind one or more platform accounts.
type Identity struct {
	// ID is the stable identifier: the directory's userPrincipalName or mail
	// where resolved, else "<platform>:<login>".
	ID string
	// Accounts are the platform accounts joined to the identity, as
	// "<platform>:<login>".
	Accounts []string
	// Resolved is false when no mapping joined the account to a person.
	Resolved bool
	// Privileged is true when the directory or configuration marks the
	// identity as privileged; PrivilegedVia says why (group names, "config").
	Privileged    bool
	PrivilegedVia []string
	// Disabled is true when the directory account is disabled.
	Disabled bool
}
