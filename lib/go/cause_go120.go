// SPDX-License-Identifier: LGPL-2.1-or-later

//go:build go1.20

package ctxfd

import "context"

// goCause is context.Cause, which Go has since 1.20.
func goCause(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return ctx.Err()
}
