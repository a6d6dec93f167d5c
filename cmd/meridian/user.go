package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/meridianplane/meridian/ent/user"
	"github.com/meridianplane/meridian/internal/auth"
	"github.com/meridianplane/meridian/internal/policy"
)

// userCmd administers users from the shell, for when nobody can sign in:
//
//	meridian user list
//	meridian user passwd NAME      (new password from MERIDIAN_NEW_PASSWORD)
//	meridian user approve NAME
func userCmd(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: meridian user list|passwd NAME|approve NAME [--db ...]")
	}
	sub, args := args[0], args[1:]
	var name string
	if sub != "list" {
		if len(args) == 0 {
			return fmt.Errorf("usage: meridian user %s NAME [--db ...]", sub)
		}
		name, args = args[0], args[1:]
	}
	cfg, _, err := parse("user", args)
	if err != nil {
		return err
	}
	ctx := policy.System(context.Background())
	d, err := openMigrated(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "list":
		us, err := d.Client.User.Query().Order(user.ByID()).All(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tROLE\tSTATUS\tNAME")
		for _, u := range us {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.Role, u.Status, u.RealName)
		}
		return tw.Flush()
	case "passwd":
		u, err := d.Client.User.Query().Where(user.Username(name)).Only(ctx)
		if err != nil {
			return fmt.Errorf("no user %q: %w", name, err)
		}
		authn, err := auth.New(ctx, d.Client, auth.Options{})
		if err != nil {
			return err
		}
		if err := authn.SetPassword(ctx, u.ID, "MERIDIAN_NEW_PASSWORD", os.Getenv("MERIDIAN_NEW_PASSWORD"), ""); err != nil {
			return err
		}
		fmt.Printf("password of %s changed; their tokens are revoked\n", name)
		return nil
	case "approve":
		n, err := d.Client.User.Update().Where(user.Username(name)).SetStatus(user.StatusActive).Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no user %q", name)
		}
		fmt.Printf("%s is active\n", name)
		return nil
	}
	return fmt.Errorf("unknown user command %q", sub)
}
