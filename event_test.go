package reposentry

import (
	"slices"
	"testing"
)

func TestRepoTags(t *testing.T) {
	var tags RepoTags
	for _, n := range []string{"secrets", "infrastructure"} {
		tag, ok := ParseRepoTag(n)
		if !ok {
			t.Fatalf("ParseRepoTag(%q) failed", n)
		}
		tags |= tag
	}
	if got := tags.Names(); !slices.Equal(got, []string{"infrastructure", "secrets"}) {
		t.Errorf("Names = %q", got)
	}
	if _, ok := ParseRepoTag("nope"); ok {
		t.Error("ParseRepoTag accepted an unknown tag")
	}
}

func TestEventID(t *testing.T) {
	var id EventID
	if !id.IsZero() || !id.Set([]byte("Zq3kLr8TmQ2wXy7pVb1cDe")) || id.String() != "Zq3kLr8TmQ2wXy7pVb1cDe" {
		t.Fatalf("Set/String = %q", id.String())
	}
	if id.Set(make([]byte, MaxEventIDLen+1)) || !id.IsZero() {
		t.Error("an over-long id was kept")
	}
	ev := Event{Platform: PlatformGitHub}
	ev.ID.Set([]byte("abc"))
	if ev.Ref() != "github:abc" {
		t.Errorf("Ref = %q", ev.Ref())
	}
}

func TestEnumNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{CategoryArchiveDownload.String(), "archive_download"},
		{Category(200).String(), "other"},
		{PlatformEntra.String(), "entra"},
		{CredentialPATFineGrained.String(), "pat_fine_grained"},
		{VisibilityInternal.String(), "internal"},
		{SeverityCritical.String(), "critical"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if s, err := ParseSeverity("high"); err != nil || s != SeverityHigh {
		t.Errorf("ParseSeverity(high) = %v, %v", s, err)
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("ParseSeverity accepted urgent")
	}
	if !CategoryClone.IsRead() || CategoryPush.IsRead() || !VisibilityPrivate.NonPublic() {
		t.Error("IsRead/NonPublic are wrong")
	}
}
