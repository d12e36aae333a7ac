package units_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/tiski/tiski/audit"
	"github.com/tiski/tiski/db"
	"github.com/tiski/tiski/db/dbtest"
	"github.com/tiski/tiski/fault"
	"github.com/tiski/tiski/testkit"
	"github.com/tiski/tiski/units"
)

// staff is the standard organisation (testkit) seen from the grant tests:
// its top unit, its admin and finance user by name, and this file's own
// second admin and people without roles, all made by the operator (actor 0).
type staff struct {
	*testkit.Kit
	t     *testing.T
	d     *db.DB
	top   int64
	users map[string]int64
}

func newStaff(t *testing.T, d *db.DB) *staff {
	t.Helper()
	k := testkit.New(t, d)
	s := &staff{Kit: k, t: t, d: d, top: k.Units.HQ, users: map[string]int64{"admin": k.People.Admin, "finance": k.People.Finance}}
	s.users["admin2"] = k.AddPerson(t, "admin2", testkit.Grant{Role: "admin"})
	for _, name := range []string{"anna", "ben", "cecilia"} {
		s.users[name] = k.AddPerson(t, name)
	}
	return s
}

// grantOrg runs GrantOrgRole as actor through audit.InTx, as the surfaces do.
func (s *staff) grantOrg(actor, user, role string) (*units.OrgGrant, error) {
	var g *units.OrgGrant
	ctx := context.Background()
	err := audit.InTx(ctx, s.d, func(tx bun.Tx) (err error) {
		g, err = units.GrantOrgRole(ctx, tx, s.users[actor], s.users[user], role)
		return err
	})
	return g, err
}

func (s *staff) confirm(actor string, proposalID int64) error {
	ctx := context.Background()
	return audit.InTx(ctx, s.d, func(tx bun.Tx) error {
		_, err := units.ConfirmGrant(ctx, tx, s.users[actor], proposalID)
		return err
	})
}

func (s *staff) orgRoles(user string) []string {
	s.t.Helper()
	roles, err := units.OrgRolesOf(context.Background(), s.d, s.users[user])
	if err != nil {
		s.t.Fatal(err)
	}
	return roles
}

// refusals counts the refusals recorded against an object.
func (s *staff) refusals(objectType, objectID string) int {
	s.t.Helper()
	var n int
	if err := s.d.NewRaw("SELECT COUNT(*) FROM audit_events WHERE object_type = ? AND object_id = ? AND action = 'refuse'",
		objectType, objectID).Scan(context.Background(), &n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// wantRefused checks that err is a fault of kind with the given reason.
func wantRefused(t *testing.T, step string, err error, kind fault.Kind, reason string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || fe.Details["reason"] != reason {
		t.Fatalf("%s: got %v (%+v), want kind %d with reason %s", step, err, fe, kind, reason)
	}
}

func TestAdminCannotGrantSelfAuditor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStaff(t, d)
		_, err := s.grantOrg("admin", "admin", "auditor")
		wantRefused(t, "admin grants himself auditor", err, fault.KindForbidden, "self_grant")
		if roles := s.orgRoles("admin"); !slices.Equal(roles, []string{"admin"}) {
			t.Fatalf("admin holds %v", roles)
		}
		if n := s.refusals("grant", "org/"+id(s.users["admin"])+"/auditor"); n != 1 {
			t.Fatalf("%d refusals recorded, want 1", n)
		}
		var after string
		if err := d.NewRaw("SELECT after_json FROM audit_events WHERE action = 'refuse' AND actor_id = ?", s.users["admin"]).
			Scan(context.Background(), &after); err != nil || !strings.Contains(after, `"reason":"self_grant"`) {
			t.Fatalf("the refusal records %s (%v)", after, err)
		}
		_, err = s.grantOrg("admin", "admin", "admin")
		wantRefused(t, "admin grants himself admin again", err, fault.KindForbidden, "self_grant")
	})
}

func TestAdminCannotGrantSelfTopUnitManager(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStaff(t, d)
		ctx := context.Background()
		grant := func(actor, user string) error {
			return audit.InTx(ctx, d, func(tx bun.Tx) error {
				_, err := units.GrantUnitRole(ctx, tx, s.users[actor], s.top, s.users[user], "manager")
				return err
			})
		}
		wantRefused(t, "admin makes himself manager of the top unit", grant("admin", "admin"), fault.KindForbidden, "self_grant")
		roles, err := units.UnitRolesOf(ctx, d, s.users["admin"])
		if err != nil || len(roles) != 0 {
			t.Fatalf("admin holds unit roles %v (%v)", roles, err)
		}
		if n := s.refusals("grant", id(s.top)+"/"+id(s.users["admin"])+"/manager"); n != 1 {
			t.Fatalf("%d refusals recorded, want 1", n)
		}
		// Another admin may make him manager: the rule is about oneself.
		if err := grant("admin2", "admin"); err != nil {
			t.Fatalf("a second admin grants manager: %v", err)
		}
	})
}

func TestStandInFinanceNeedsSecondPerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStaff(t, d)
		ctx := context.Background()
		err := audit.InTx(ctx, d, func(tx bun.Tx) error {
			u, err := units.CreateUser(ctx, tx, s.users["admin"], units.User{Email: "standin@example.org", Name: "Stand-in"})
			s.users["standin"] = u.ID
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.grantOrg("admin", "standin", "finance")
		if err != nil || g.Proposal == nil || g.Role != nil || g.Proposal.Status != units.ProposalPending {
			t.Fatalf("admin asks finance for the stand-in: %+v, %v", g, err)
		}
		if roles := s.orgRoles("standin"); len(roles) != 0 {
			t.Fatalf("the stand-in holds %v before any confirmation", roles)
		}
		if _, err := s.grantOrg("admin2", "standin", "finance"); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("a second proposal for the same role: %v", err)
		}
		p := g.Proposal.ID
		wantRefused(t, "the proposer confirms", s.confirm("admin", p), fault.KindForbidden, "own_proposal")
		wantRefused(t, "the stand-in confirms", s.confirm("standin", p), fault.KindForbidden, "self_grant")
		wantRefused(t, "another admin confirms", s.confirm("admin2", p), fault.KindForbidden, "not_finance")
		if roles := s.orgRoles("standin"); len(roles) != 0 {
			t.Fatalf("the stand-in holds %v after refused confirmations", roles)
		}
		if n := s.refusals("grant_proposal", id(p)); n != 3 {
			t.Fatalf("%d refusals recorded, want 3", n)
		}
		if err := s.confirm("finance", p); err != nil {
			t.Fatalf("a finance user confirms: %v", err)
		}
		if roles := s.orgRoles("standin"); !slices.Equal(roles, []string{"finance"}) {
			t.Fatalf("the stand-in holds %v after confirmation", roles)
		}
		got, err := units.GetGrantProposal(ctx, d, p)
		if err != nil || got.Status != units.ProposalConfirmed || got.DecidedBy == nil || *got.DecidedBy != s.users["finance"] {
			t.Fatalf("proposal after confirmation: %+v, %v", got, err)
		}
		if err := s.confirm("finance", p); !fault.Is(err, fault.KindConflict) {
			t.Fatalf("confirming twice: %v", err)
		}
		var trail []string
		if err := d.NewRaw("SELECT action FROM audit_events WHERE (object_type = 'grant_proposal' AND object_id = ?) OR (object_type = 'grant' AND object_id = ?) ORDER BY id",
			id(p), "org/"+id(s.users["standin"])+"/finance").Scan(ctx, &trail); err != nil {
			t.Fatal(err)
		}
		if want := []string{"propose", "refuse", "refuse", "refuse", "confirm", "grant"}; !slices.Equal(trail, want) {
			t.Fatalf("audit trail %v, want %v", trail, want)
		}
		// Declining closes a proposal without a grant.
		g, err = s.grantOrg("admin", "anna", "auditor")
		if err != nil || g.Proposal == nil {
			t.Fatalf("propose auditor: %+v, %v", g, err)
		}
		err = audit.InTx(ctx, d, func(tx bun.Tx) error {
			_, err := units.DeclineGrant(ctx, tx, s.users["finance"], g.Proposal.ID)
			return err
		})
		if err != nil || len(s.orgRoles("anna")) != 0 {
			t.Fatalf("decline: %v, anna holds %v", err, s.orgRoles("anna"))
		}
	})
}

func TestAdminAndAuditorNeverOnOneUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStaff(t, d)
		ctx := context.Background()
		operator := func(user, role string) error {
			return audit.InTx(ctx, d, func(tx bun.Tx) error {
				_, err := units.GrantOrgRole(ctx, tx, 0, s.users[user], role)
				return err
			})
		}
		// An auditor does not become admin, not even by the operator.
		if err := operator("anna", "auditor"); err != nil {
			t.Fatal(err)
		}
		_, err := s.grantOrg("admin", "anna", "admin")
		wantRefused(t, "admin for an auditor", err, fault.KindConflict, "segregation_of_duties")
		wantRefused(t, "the operator makes an auditor admin", operator("anna", "admin"), fault.KindConflict, "segregation_of_duties")
		if roles := s.orgRoles("anna"); !slices.Equal(roles, []string{"auditor"}) {
			t.Fatalf("anna holds %v", roles)
		}
		// An admin does not become auditor.
		_, err = s.grantOrg("admin", "admin2", "auditor")
		wantRefused(t, "auditor for an admin", err, fault.KindConflict, "segregation_of_duties")
		wantRefused(t, "the operator makes an admin auditor", operator("admin2", "auditor"), fault.KindConflict, "segregation_of_duties")
		// A proposal confirmed after its grantee became admin is refused.
		g, err := s.grantOrg("admin", "ben", "auditor")
		if err != nil || g.Proposal == nil {
			t.Fatalf("propose auditor for ben: %+v, %v", g, err)
		}
		if _, err := s.grantOrg("admin2", "ben", "admin"); err != nil {
			t.Fatalf("admin for ben: %v", err)
		}
		wantRefused(t, "confirming auditor for a new admin", s.confirm("finance", g.Proposal.ID), fault.KindConflict, "segregation_of_duties")
		if roles := s.orgRoles("ben"); !slices.Equal(roles, []string{"admin"}) {
			t.Fatalf("ben holds %v", roles)
		}
		if n := s.refusals("grant", "org/"+id(s.users["ben"])+"/auditor"); n != 1 {
			t.Fatalf("%d refusals of ben's auditor grant recorded, want 1", n)
		}
	})
}

func id(n int64) string { return strconv.FormatInt(n, 10) }
