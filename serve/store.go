package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Status is where an analysis is in its life.
type Status string

// The statuses of an analysis.
const (
	StatusQueued  Status = "queued"  // uploaded, waiting for a worker (or requeued after a restart)
	StatusRunning Status = "running" // a worker is analysing it
	StatusDone    Status = "done"    // the reports are on disk
	StatusFailed  Status = "failed"  // Error says why
)

// File is one uploaded file, kept byte for byte.
type File struct {
	Name     string `json:"name"`          // the sanitized name it is stored and cited under
	Original string `json:"original_name"` // the name the client sent, untrusted
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"` // hex
}

// Verdict is the headline of a finished analysis, for the list.
type Verdict struct {
	Text      string `json:"text"`
	Severity  string `json:"severity"`
	Category  string `json:"category"`
	Findings  int    `json:"findings"`
	CloseWait int    `json:"close_wait"`
}

// Analysis is the metadata of one upload and its analysis.
type Analysis struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Status     Status    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Created    time.Time `json:"created"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	Files      []File    `json:"files"`
	Local      []string  `json:"local"`
	Progress   Progress  `json:"progress"`
	Verdict    *Verdict  `json:"verdict,omitempty"`
	ReusedFrom string    `json:"reused_from,omitempty"` // the analysis whose reports an identical upload reused
	Runs       int       `json:"runs"`                  // times a worker started it; more than 1 after a restart
	Key        string    `json:"-"`                     // identifies identical uploads: names, hashes and options
}

// store keeps the metadata in a bbolt database and the files beside it:
//
//	DIR/cwforensics.db            metadata, one JSON record per analysis
//	DIR/analyses/ID/files/NAME    the uploaded files, read-only
//	DIR/analyses/ID/report.EXT    the reports, once done
//	DIR/uploads/ID/               uploads under way; emptied at start
type store struct {
	dir string
	db  *bolt.DB
}

var (
	bucketAnalyses = []byte("analyses") // id -> Analysis JSON
	bucketKeys     = []byte("keys")     // Analysis.Key -> id of a done analysis
)

// errNotFound is returned for an unknown analysis id.
var errNotFound = errors.New("no such analysis")

func openStore(dir string) (*store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "analyses"), filepath.Join(dir, "uploads")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open data directory: %w", err)
		}
	}
	db, err := bolt.Open(filepath.Join(dir, "cwforensics.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: locked: is another cwforensics serve using %s? %w", filepath.Join(dir, "cwforensics.db"), dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", filepath.Join(dir, "cwforensics.db"), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAnalyses, bucketKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create buckets: %w", err)
	}
	s := &store{dir: dir, db: db}
	if err := s.clean(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// clean removes what a crash can leave behind: uploads that never
// completed and analysis folders without a record.
func (s *store) clean() error {
	if err := os.RemoveAll(filepath.Join(s.dir, "uploads")); err != nil {
		return fmt.Errorf("remove unfinished uploads: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "uploads"), 0o700); err != nil {
		return fmt.Errorf("remove unfinished uploads: %w", err)
	}
	ents, err := os.ReadDir(filepath.Join(s.dir, "analyses"))
	if err != nil {
		return fmt.Errorf("list analyses: %w", err)
	}
	for _, e := range ents {
		if _, err := s.get(e.Name()); errors.Is(err, errNotFound) {
			if err := os.RemoveAll(filepath.Join(s.dir, "analyses", e.Name())); err != nil {
				return fmt.Errorf("remove orphan analysis folder: %w", err)
			}
		}
	}
	return nil
}

func (s *store) close() error { return s.db.Close() }

func (s *store) analysisDir(id string) string { return filepath.Join(s.dir, "analyses", id) }
func (s *store) filesDir(id string) string    { return filepath.Join(s.dir, "analyses", id, "files") }
func (s *store) uploadDir(id string) string   { return filepath.Join(s.dir, "uploads", id) }

// reportPath is where the report of an analysis in a format (html, md,
// json) is kept.
func (s *store) reportPath(id, format string) string {
	return filepath.Join(s.dir, "analyses", id, "report."+format)
}

func (s *store) put(a *Analysis) error {
	err := s.db.Update(func(tx *bolt.Tx) error { return putTx(tx, a) })
	if err != nil {
		return fmt.Errorf("save analysis %s: %w", a.ID, err)
	}
	return nil
}

// record is how an analysis is stored: the API's fields plus the key.
type record struct {
	Analysis
	Key string `json:"key"`
}

func putTx(tx *bolt.Tx, a *Analysis) error {
	b, err := json.Marshal(record{*a, a.Key})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAnalyses).Put([]byte(a.ID), b)
}

func decode(v []byte) (*Analysis, error) {
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	r.Analysis.Key = r.Key
	return &r.Analysis, nil
}

func (s *store) get(id string) (*Analysis, error) {
	var a *Analysis
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAnalyses).Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		var err error
		a, err = decode(v)
		return err
	})
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("load analysis %s: %w", id, err)
	}
	return a, nil
}

// update loads an analysis, lets f change it and saves it, in one
// transaction.
func (s *store) update(id string, f func(a *Analysis) error) (*Analysis, error) {
	var a *Analysis
	err := s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAnalyses).Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		var err error
		if a, err = decode(v); err != nil {
			return err
		}
		if err := f(a); err != nil {
			return err
		}
		if a.Status == StatusDone && a.Key != "" {
			if err := tx.Bucket(bucketKeys).Put([]byte(a.Key), []byte(a.ID)); err != nil {
				return err
			}
		}
		return putTx(tx, a)
	})
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("update analysis %s: %w", id, err)
	}
	return a, nil
}

// list returns every analysis, newest first; q, when not empty, keeps
// those whose name or a file name contains it, ignoring case.
func (s *store) list(q string) ([]*Analysis, error) {
	var out []*Analysis
	q = strings.ToLower(q)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAnalyses).ForEach(func(k, v []byte) error {
			a, err := decode(v)
			if err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			if q == "" || matches(a, q) {
				out = append(out, a)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list analyses: %w", err)
	}
	slices.SortFunc(out, func(a, b *Analysis) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func matches(a *Analysis, q string) bool {
	if strings.Contains(strings.ToLower(a.Name), q) {
		return true
	}
	for _, f := range a.Files {
		if strings.Contains(strings.ToLower(f.Original), q) || strings.Contains(strings.ToLower(f.Name), q) {
			return true
		}
	}
	return false
}

// doneWithKey returns the id of a done analysis of identical uploads, or "".
func (s *store) doneWithKey(key string) string {
	var id string
	_ = s.db.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketKeys).Get([]byte(key)))
		return nil
	})
	return id
}

// remove deletes an analysis's record and then its files.
func (s *store) remove(id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAnalyses).Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		a, err := decode(v)
		if err != nil {
			return err
		}
		if a.Key != "" && string(tx.Bucket(bucketKeys).Get([]byte(a.Key))) == id {
			if err := tx.Bucket(bucketKeys).Delete([]byte(a.Key)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketAnalyses).Delete([]byte(id))
	})
	if err != nil {
		if errors.Is(err, errNotFound) {
			return err
		}
		return fmt.Errorf("delete analysis %s: %w", id, err)
	}
	if err := removeTree(s.analysisDir(id)); err != nil {
		return fmt.Errorf("delete files of analysis %s: %w", id, err)
	}
	return nil
}

// removeTree removes a folder whose files were made read-only.
func removeTree(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
