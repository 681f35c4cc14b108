#!/usr/bin/env python3
"""the bundled capsule over gemini: every page is served with status 20,
the right MIME type and lang, and its exact bytes; every link on every page
resolves; the home page links to every page; and an edit is live on the
next request with no restart (on a copy of the capsule)."""
import os
import shutil
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from gemtest import TOP, Server, Tap, request  # noqa: E402

CAPSULE = os.path.join(TOP, "capsule")
MIME = {
    ".gmi": "text/gemini; lang=en-GB",
    ".gemini": "text/gemini; lang=en-GB",
    ".txt": "text/plain; charset=utf-8",
}


def capsule_files(root):
    """root-relative paths of every file under root, sorted"""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(d, f), root))
    return out


def url_path(rel):
    return "/" + urllib.parse.quote(rel.replace(os.sep, "/"))


def links(doc):
    """the urls of a gemtext page's link lines, outside preformatted text"""
    out, pre = [], False
    for line in doc.split("\n"):
        if line.startswith("```"):
            pre = not pre
            continue
        if not pre and line.startswith("=>"):
            parts = line[2:].split(None, 1)
            out.append(parts[0] if parts else "")
    return out


def resolve(page_path, ref):
    """a relative reference against the page's path (RFC 3986 via
    urljoin, which does not know the gemini scheme: borrow http's rules),
    returning path plus query, without the fragment"""
    joined = urllib.parse.urljoin("http://capsule" + page_path, ref)
    parts = urllib.parse.urlsplit(joined)
    return parts.path + ("?" + parts.query if parts.query else "")


def fetch(srv, path, hops=5):
    """a request, following redirects inside the capsule"""
    r = request(srv.port, srv.url(path))
    while r.status is not None and 30 <= r.status <= 39 and hops > 0:
        path = resolve(path, r.meta)
        r = request(srv.port, srv.url(path))
        hops -= 1
    return r


def external_ok(url):
    """links that leave the capsule are only checked for their syntax"""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "mailto":
        addr = parts.path
        local, at, domain = addr.partition("@")
        return bool(local) and at == "@" and "." in domain \
            and " " not in addr
    if parts.scheme in ("gemini", "gopher", "http", "https", "finger"):
        return bool(parts.netloc) and " " not in url
    return False


def test_pages(t, srv):
    files = capsule_files(CAPSULE)
    t.ok(len(files) >= 6, "the capsule has its pages (%d files)" % len(files))
    pages = {}
    for rel in files:
        path = url_path(rel)
        ext = os.path.splitext(rel)[1]
        with open(os.path.join(CAPSULE, rel), "rb") as f:
            want = f.read()
        r = request(srv.port, srv.url(path))
        t.eq(r.status, 20, "%s: status 20" % path)
        if ext in MIME:
            t.eq(r.meta, MIME[ext], "%s: %s" % (path, MIME[ext]))
        t.ok(r.body == want, "%s: the file's exact bytes" % path,
             "got %d bytes, want %d" % (len(r.body), len(want)))
        if ext in (".gmi", ".gemini"):
            pages[path] = want.decode("utf-8")
    r = request(srv.port, srv.url("/"))
    t.ok(r.status == 20 and r.meta == MIME[".gmi"] and
         r.body == pages.get("/index.gmi", "").encode("utf-8"),
         "/ serves index.gmi as text/gemini; lang=en-GB", r)

    # every link on every page: inside the capsule a 20, outside valid
    for path, doc in sorted(pages.items()):
        for ref in links(doc):
            if urllib.parse.urlsplit(ref).scheme:
                t.ok(external_ok(ref), "%s: external link %s is well-formed"
                     % (path, ref))
                continue
            target = resolve(path, ref)
            r = fetch(srv, target)
            t.ok(r.status == 20, "%s: link %s -> %s: status 20"
                 % (path, ref, target), r)

    # the home page reaches every page, and enquiries can be emailed
    home = {resolve("/index.gmi", ref) for ref in links(pages["/index.gmi"])
            if not urllib.parse.urlsplit(ref).scheme}
    missing = sorted(url_path(rel) for rel in files
                     if url_path(rel) not in home | {"/index.gmi"})
    t.ok(not missing, "index.gmi links to every page", missing)
    t.ok("mailto:enquiries@rmet.org" in
         links(pages.get("/enquiries.gmi", "")),
         "enquiries.gmi links mailto:enquiries@rmet.org")


def readable_tree(root):
    """the server drops to an unprivileged user: let it read the copy"""
    os.chmod(os.path.dirname(root), 0o755)
    for d, dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)


def test_live_edit(t):
    tmp = tempfile.mkdtemp(prefix="capsule-edit-")
    root = os.path.join(tmp, "capsule")
    shutil.copytree(CAPSULE, root, symlinks=True)
    readable_tree(root)
    page = os.path.join(root, "partners.gmi")
    try:
        with Server(root=root) as srv:
            pid = srv.proc.pid
            r = request(srv.port, srv.url("/partners.gmi"))
            with open(page, "rb") as f:
                t.ok(r.status == 20 and r.body == f.read(),
                     "copy: partners.gmi served as it is", r)

            # 1. edited in place, as `echo >>` or an editor writing over it
            marker = "An edit made while the server runs (in place)."
            with open(page, "a", encoding="utf-8") as f:
                f.write("\n" + marker + "\n")
            r = request(srv.port, srv.url("/partners.gmi"))
            t.ok(r.status == 20 and marker in r.text(),
                 "an edit in place is served on the next request", r)

            # 2. replaced by rename, as most editors save
            marker2 = "A second edit, saved by renaming a new file over it."
            new = os.path.join(root, ".partners.gmi.swp")
            with open(new, "w", encoding="utf-8") as f:
                f.write("# Teaching School Partners\n\n" + marker2 + "\n")
            os.chmod(new, 0o644)
            os.rename(new, page)
            r = request(srv.port, srv.url("/partners.gmi"))
            t.ok(r.status == 20 and marker2 in r.text() and
                 marker not in r.text(),
                 "a page replaced by rename is served on the next request",
                 r)

            # 3. a new page, and a page taken away
            with open(os.path.join(root, "news.gmi"), "w") as f:
                f.write("# News\n\nA new page.\n")
            os.chmod(os.path.join(root, "news.gmi"), 0o644)
            r = request(srv.port, srv.url("/news.gmi"))
            t.ok(r.status == 20 and "A new page." in r.text(),
                 "a new page is served at once", r)
            os.unlink(os.path.join(root, "news.gmi"))
            r = request(srv.port, srv.url("/news.gmi"))
            t.eq(r.status, 51, "a removed page is gone at once (51)")

            t.ok(srv.proc.poll() is None and srv.proc.pid == pid,
                 "all of it without a restart (pid %d still serving)" % pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    t = Tap()
    if not os.access(os.path.join(TOP, "build", "capsuled"), os.X_OK):
        t.ok(False, "build/capsuled is built (run make)")
        t.done()
    with Server() as srv:
        test_pages(t, srv)
    test_live_edit(t)
    print("%d passed, %d failed" % (t.passed, t.failed))
    t.done()


if __name__ == "__main__":
    main()
