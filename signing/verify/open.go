package verify

import "io"

// openStructure reads the PDF structure, falling back to the raw scan.
func openStructure(r io.ReaderAt, size int64) structure {
	return newScanStructure(r, size, nil)
}
