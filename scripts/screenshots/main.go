// Command screenshots takes the README's pictures of the pages: it starts
// `vanthu serve --demo` on a temporary data directory, drives Chromium
// (chromedp) through each role's main pages in Vietnamese — the drafter's
// inbox and upload, the reviewer's document page, the clerk's format check,
// the chairman's signature with its frame, issuing with the number shown
// first, the register, the auditor's verification and the administrator's
// chain templates — and writes 1280×800 PNGs, recompressed, to the output
// directory. `make screenshots` runs it; it is built for nothing else.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func main() {
	bin := flag.String("bin", "bin/vanthu", "the vanthu binary")
	out := flag.String("out", "docs/screenshots", "where the PNGs go")
	browser := flag.String("chromium", "chromium", "the Chromium binary")
	flag.Parse()
	if err := run(*bin, *out, *browser); err != nil {
		log.Fatal(err)
	}
}

// shooter is the demo office and the browser taking its pictures.
type shooter struct {
	base     string
	accounts map[string]string // username -> password
	alloc    context.Context
	out      string
	ctx      context.Context
	close    context.CancelFunc // closes ctx's browser context
}

// tab opens a fresh browser context (no cookies), closing the last one.
func (s *shooter) tab() {
	if s.close != nil {
		s.close()
	}
	s.ctx, s.close = chromedp.NewContext(s.alloc, chromedp.WithNewBrowserContext())
	// The tab lives as long as the context of its first action: this one,
	// not a step's, which ends with the step.
	if err := chromedp.Do(s.ctx); err != nil {
		log.Fatalf("open a tab: %v", err)
	}
}

func run(bin, out, browser string) error {
	dir, err := os.MkdirTemp("", "vanthu-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddress()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--demo", "--addr", addr, "--data-dir", dir, "--metrics-addr", "")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	s := &shooter{base: "http://" + addr, out: out}
	if err := s.waitReady(ctx, dir); err != nil {
		return fmt.Errorf("%w\n%s", err, logs.String())
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	alloc, stop := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 800))
	defer stop()
	first, stopFirst := chromedp.NewContext(alloc)
	defer stopFirst()
	if err := chromedp.Do(first); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	s.alloc = first
	if err := s.walk(); err != nil {
		return fmt.Errorf("%w\nservice log:\n%s", err, tail(logs.String(), 40))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freeAddress() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady waits for the service to answer and the demo accounts to be
// written.
func (s *shooter) waitReady(ctx context.Context, dir string) error {
	for {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if b, err := os.ReadFile(filepath.Join(dir, "demo-accounts")); err == nil && resp.StatusCode == http.StatusOK {
				s.accounts = map[string]string{}
				sc := bufio.NewScanner(bytes.NewReader(b))
				for sc.Scan() {
					if f := strings.Fields(sc.Text()); len(f) == 3 {
						s.accounts[f[1]] = f[2]
					}
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the demo service never became ready")
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// as opens a fresh browser context logged in as username.
func (s *shooter) as(username string) error {
	s.tab()
	return s.do("log in as "+username, chromedp.Navigate(s.base+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), s.accounts[username]),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".counters")))
}

func (s *shooter) do(step string, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(s.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	return nil
}

// eval runs JavaScript in the page.
func (s *shooter) eval(js string) (string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
}

// shot saves 1280×800 of the page from its top, recompressed.
func (s *shooter) shot(name string) error { return s.shotFrom(name, "") }

// shotFrom saves 1280×800 of the page from the top of the element sel
// ("" the page's top).
func (s *shooter) shotFrom(name, sel string) error {
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	// The pictures show the page as a reader finds it: at the top, no
	// text cursor; the window's 1280×800 are cut from the whole page.
	// A tab in the background draws no frames, and a capture of it waits
	// for one: the tab comes to the front first.
	if _, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{}); err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	top, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);
		(() => { const el = %q && document.querySelector(%q); return el ? Math.max(0, el.getBoundingClientRect().top - 16) : 0; })()`, sel, sel)))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	full, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", name, err)
	}
	img := full
	if sub, ok := full.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		y := min(int(top), max(0, full.Bounds().Dy()-800))
		img = sub.SubImage(image.Rect(0, y, 1280, y+800).Intersect(full.Bounds()))
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		return err
	}
	path := filepath.Join(s.out, name+".png")
	log.Printf("%s: %d KB", path, b.Len()>>10)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// walk takes every picture, in the order of a document's life.
func (s *shooter) walk() error {
	steps := []func() error{
		func() error {
			s.tab()
			if err := s.do("login page", chromedp.Navigate(s.base+"/login"), chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
				return err
			}
			return s.shot("01-dang-nhap")
		},
		func() error {
			if err := s.as("chuyenvien"); err != nil {
				return err
			}
			if err := s.shot("02-hop-cong-viec"); err != nil {
				return err
			}
			if err := s.do("upload", chromedp.Navigate(s.base+"/documents/new"), chromedp.WaitVisible(chromedp.ID("drop"))); err != nil {
				return err
			}
			return s.shot("03-tai-len-du-thao")
		},
		func() error {
			if err := s.as("chanhvp"); err != nil {
				return err
			}
			if err := s.do("the reviewer's document", chromedp.Click(chromedp.CSS(`table.inbox a`)), chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)),
				chromedp.WaitVisible(chromedp.CSS(`#signatures .report`))); err != nil {
				return err
			}
			return s.shot("04-van-ban-tham-dinh")
		},
		func() error {
			if err := s.as("vanthu"); err != nil {
				return err
			}
			if err := s.do("format check", chromedp.Click(chromedp.CSS(`table.inbox a`)), chromedp.WaitVisible(chromedp.ID("approve-btn")),
				chromedp.SendKeys(chromedp.ID("comment"), "Đúng thể thức theo Nghị định 30."), chromedp.Click(chromedp.ID("approve-btn")),
				chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
				return err
			}
			return nil
		},
		func() error {
			if err := s.as("an"); err != nil {
				return err
			}
			// Without a mouse, the place is a preset spot chosen with the
			// keyboard (Space on the focused choice); then moved with a click.
			if err := s.do("the signer's document", chromedp.Click(chromedp.CSS(`table.inbox a`)), chromedp.WaitVisible(chromedp.CSS(`#preview-canvas[data-rendered="1"]`)),
				chromedp.WaitVisible(chromedp.ID("sign-spots")), chromedp.Focus(chromedp.CSS(`#sign-spots input[value="bottom-right"]`)), chromedp.KeyEvent(" "),
				chromedp.WaitVisible(chromedp.CSS(".mark.sign"))); err != nil {
				return err
			}
			if err := s.shotFrom("17-ban-phim-vi-tri-chu-ky", "#sign-form"); err != nil {
				return err
			}
			if err := s.do("move the signature", chromedp.WaitVisible(chromedp.ID("pick-sign")), chromedp.Click(chromedp.ID("pick-sign")), chromedp.Click(chromedp.ID("preview-canvas")),
				chromedp.WaitVisible(chromedp.CSS(".mark.sign"))); err != nil {
				return err
			}
			if err := s.shotFrom("05-ky-so-vi-tri-chu-ky", "#chain"); err != nil {
				return err
			}
			return s.do("sign", chromedp.Click(chromedp.ID("sign-btn")), chromedp.WaitVisible(chromedp.CSS(".flash")))
		},
		func() error {
			if err := s.as("vanthu"); err != nil {
				return err
			}
			if err := s.do("issuing queue", chromedp.Navigate(s.base+"/issuing"), chromedp.WaitVisible(chromedp.CSS("table.queue")),
				chromedp.Click(chromedp.CSS(`table.queue a.button`)), chromedp.WaitVisible(chromedp.ID("symbol")),
				chromedp.Click(chromedp.CSS(`input[name=orgs]`)), chromedp.SendKeys(chromedp.ID("copies-kept"), "Lưu: VT, VP.")); err != nil {
				return err
			}
			if err := s.shot("06-phat-hanh-so-se-cap"); err != nil {
				return err
			}
			if err := s.do("issue", chromedp.Click(chromedp.ID("issue-btn")), chromedp.WaitVisible(chromedp.CSS("table.deliveries"))); err != nil {
				return err
			}
			if err := s.shot("07-noi-nhan"); err != nil {
				return err
			}
			if err := s.do("register", chromedp.Navigate(s.base+"/registers"), chromedp.WaitVisible(chromedp.CSS("table.registers")),
				chromedp.Click(chromedp.CSS(`table.registers tr[data-kind=outgoing][data-default] a`)), chromedp.WaitVisible(chromedp.CSS("table.book"))); err != nil {
				return err
			}
			return s.shot("08-so-van-ban-di")
		},
		func() error {
			if err := s.as("kiemtra"); err != nil {
				return err
			}
			if err := s.do("audit", chromedp.Navigate(s.base+"/audit"), chromedp.WaitVisible(chromedp.CSS("main table"))); err != nil {
				return err
			}
			return s.shot("09-nhat-ky-kiem-tra")
		},
		func() error {
			if err := s.as("quantri"); err != nil {
				return err
			}
			if err := s.do("chain templates", chromedp.Navigate(s.base+"/admin/templates"), chromedp.WaitVisible(chromedp.CSS("ul.templates"))); err != nil {
				return err
			}
			return s.shot("10-quan-tri-luong-trinh-ky")
		},
		func() error {
			if err := s.as("quantri"); err != nil {
				return err
			}
			if err := s.do("delegations", chromedp.Navigate(s.base+"/admin/delegations"), chromedp.WaitVisible(chromedp.CSS("main table"))); err != nil {
				return err
			}
			return s.shot("16-quan-tri-uy-quyen")
		},
		func() error {
			if err := s.as("vanthu"); err != nil {
				return err
			}
			if err := s.do("reception queue", chromedp.Navigate(s.base+"/reception?status=all"), chromedp.WaitVisible(chromedp.CSS("table.arrivals"))); err != nil {
				return err
			}
			return s.shot("11-van-ban-den")
		},
		func() error {
			if err := s.as("chuyenvien"); err != nil {
				return err
			}
			if err := s.do("the handler's document", chromedp.Navigate(s.base+"/?view=open"), chromedp.WaitVisible(chromedp.CSS("table.inbox")),
				chromedp.Evaluate[chromedp.Void](`document.querySelector("table.inbox a[href^='/documents/']") && [...document.querySelectorAll("table.inbox tr")].find(r => r.textContent.includes("chủ trì"))?.querySelector("a")?.click()`),
				chromedp.WaitVisible(chromedp.ID("handling"))); err != nil {
				return err
			}
			return s.shotFrom("12-xu-ly-van-ban-den", "#handling")
		},
		func() error {
			if err := s.as("an"); err != nil {
				return err
			}
			if err := s.do("statistics", chromedp.Navigate(s.base+"/statistics"), chromedp.WaitVisible(chromedp.CSS(`#chart-monthly[data-rendered="1"]`))); err != nil {
				return err
			}
			return s.shot("13-thong-ke")
		},
		func() error {
			// The chairman's own account: who he is, his signature image
			// between his title and name, his password and keys.
			if err := s.as("an"); err != nil {
				return err
			}
			if err := s.do("account", chromedp.Click(chromedp.ID("account-link")), chromedp.WaitVisible(chromedp.ID("signature-current"))); err != nil {
				return err
			}
			return s.shot("18-tai-khoan-chu-ky")
		},
		func() error {
			// The certifier's review of the demo's scanned request, with
			// the number certifying will take; then the public page.
			if err := s.as("chungthuc"); err != nil {
				return err
			}
			if err := s.do("certified-copy desk", chromedp.Navigate(s.base+"/certifications"), chromedp.WaitVisible(chromedp.ID("open-table")),
				chromedp.Click(chromedp.CSS(`#open-table a`)), chromedp.WaitVisible(chromedp.ID("cert-preview"))); err != nil {
				return err
			}
			if err := s.shot("14-chung-thuc-ban-sao"); err != nil {
				return err
			}
			s.tab()
			if err := s.do("public verification", chromedp.Navigate(s.base+"/check"), chromedp.WaitVisible(chromedp.ID("check-form"))); err != nil {
				return err
			}
			return s.shot("15-tra-cuu-cong-khai")
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
