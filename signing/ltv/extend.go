package ltv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vanthu/vanthu/signing"
)

// The signing engine calls ExtendFile for B-LT and B-LTA.
var _ signing.Extender = (*Extender)(nil)

// Extender raises a freshly signed B-T file to B-LT or B-LTA in place. It is
// what the signing engine calls after writing the signature.
type Extender struct {
	Options Options
	// TSA is used for the document timestamp of B-LTA.
	TSA TSA
}

// ExtendFile appends to f, whose first size bytes are a signed PDF:
//   - B-LT (lta false): one update with the DSS for every signature;
//   - B-LTA (lta true): that DSS update, a document timestamp update over it,
//     and a last DSS update with the validation data of the document
//     timestamp's TSA, so that the timestamp itself can be validated later
//     and the next archive timestamp can be added on top.
//
// On any error f is truncated back to size: the signed file is left exactly
// as it was. It returns the new size of f.
func (e *Extender) ExtendFile(ctx context.Context, f *os.File, size int64, lta bool) (newSize int64, err error) {
	defer func() {
		if err != nil {
			if terr := f.Truncate(size); terr != nil {
				err = errors.Join(err, fmt.Errorf("ltv: restore %s to %d bytes: %w", f.Name(), size, terr))
			}
		}
	}()
	cur := size
	appendDSS := func() error {
		u, _, err := prepareDSS(ctx, io.NewSectionReader(f, 0, cur), cur, e.Options)
		if err != nil {
			return err
		}
		b, res, err := u.Bytes()
		if err != nil {
			return fmt.Errorf("ltv: serialise DSS update: %w", err)
		}
		if _, err := f.WriteAt(b, cur); err != nil {
			return fmt.Errorf("ltv: append DSS update: %w", err)
		}
		cur = res.End
		return nil
	}
	if err := appendDSS(); err != nil {
		return 0, err
	}
	if !lta {
		return cur, nil
	}
	u, err := documentTimestamp(ctx, io.NewSectionReader(f, 0, cur), cur, e.TSA)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteAt(u, cur); err != nil {
		return 0, fmt.Errorf("ltv: append document timestamp: %w", err)
	}
	cur += int64(len(u))
	if err := appendDSS(); err != nil {
		return 0, fmt.Errorf("ltv: validation data for the document timestamp: %w", err)
	}
	return cur, nil
}
