// SPDX-License-Identifier: LGPL-2.1-or-later

//go:build !go1.20

package ctxfd

import "context"

// goCause: before Go 1.20 a Go context has no cause but its Err.
func goCause(ctx context.Context) error { return ctx.Err() }
