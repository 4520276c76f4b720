"""Publishing: each jurisdiction's evaluation opinion (评估意见, 附件3) and the province's
notices (通告) with the portal's files, written under --out."""
import base64
import os

from services.cli.files import safe_relative, write
from services.cli.render import emit
from services.cli.roster import jurisdiction_option


def cmd_publish(args, cluster):
    from services.notices import pdf
    # The renderers warm up while the service works (issue 14): the opinions are a dozen
    # documents, a notice's new PDF is one.
    pdf.start(warm=pdf.WORKERS if args.what == "opinions" else 1)
    if args.what == "opinions":
        return publish_opinions(args, cluster)
    result = None
    if not args.portal_only:
        result = cluster.call("notices", "publish_notice", args.title, args.kind, args.reason)
    files = cluster.call("notices", "portal_files")
    for path in files:
        safe_relative(args.out, path)
    pdfs = notice_pdfs(args.out, files)  # rendering while the pages are written
    paths = [write(args.out, path, content) for path, content in sorted(files.items())]
    paths += pdfs()
    report = {"notice": result, "files": paths}

    def human(r):
        if r["notice"]:
            n = r["notice"]
            print(f"published {n['number']}, {n.get('kind', 'results')} ({n['entries']} "
                  "institutions)"
                  + (f", correcting {n['corrects']['number']}" if n["corrects"] else "")
                  + (f"; {n['remaining']} more change(s) await another notice"
                     if n.get("remaining") else ""))
        print(f"{args.out}: {len(r['files'])} portal files")
    emit(args, report, human)


def publish_opinions(args, cluster):
    fields = {k: getattr(args, k) for k in ("number", "signer", "contact", "phone")
              if getattr(args, k)}
    opinions = cluster.call("notices", "publish_opinions", args.jurisdiction, fields or None)
    from services.notices import pdf  # the print-ready PDFs, rendered here
    for jurisdiction in opinions:
        safe_relative(args.out, f"opinion-{jurisdiction}.html")
    rendering = pdf.submit(o["html"] for o in opinions.values())
    written = {}
    for jurisdiction, opinion in opinions.items():  # written while the PDFs render
        written[jurisdiction] = {
            "html": write(args.out, f"opinion-{jurisdiction}.html", opinion["html"].encode()),
            "xlsx": write(args.out, f"summary-{jurisdiction}.xlsx", opinion["xlsx"]),
            "lists": opinion["lists"]}
    for (jurisdiction, entry), body in zip(list(written.items()), pdf.collect(rendering)):
        written[jurisdiction] = {"html": entry["html"],
                                 "pdf": write(args.out, f"opinion-{jurisdiction}.pdf", body),
                                 "xlsx": entry["xlsx"], "lists": entry["lists"]}
    emit(args, written, lambda w: [print(
        f"{j}: {v['html']}, {v['pdf']}, {v['xlsx']}  " + "; ".join(
            f"{cohort}: " + ", ".join(f"{label} {n}" for label, n in lists.items())
            for cohort, lists in v["lists"].items())) for j, v in w.items()])


def notice_pdfs(out, files):
    """Each notice's print-ready PDF beside its page, rendered here from the page (the
    services render none for the CLI, so no RPC waits on them). A notice never changes:
    a PDF already written is kept. Starts the rendering and returns a function that
    waits for it, writes the PDFs and gives their paths."""
    from services.notices import pdf
    pages = {path[:-len(".html")] + ".pdf": path for path in sorted(files)
             if path.startswith("notices/") and path.endswith(".html")}
    missing = [p for p in pages if not os.path.exists(os.path.join(out, p))]
    rendering = pdf.submit(base64.b64decode(files[pages[p]]).decode() for p in missing)

    def written():
        for path, body in zip(missing, pdf.collect(rendering)):
            write(out, path, body)
        return [os.path.join(out, p) for p in pages]
    return written


def register(commands):
    p = commands.command("publish", cmd_publish,
                         "publish the opinions or the province's notice")
    p.add_argument("what", choices=("opinions", "notice"))
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    jurisdiction_option(p, "opinions: only this jurisdiction")
    p.add_argument("--title", help="notice: its title (default: the 2023 notice's)")
    p.add_argument("--kind", choices=("results", "rectification", "correction"),
                   help="notice: which follow-up to publish when both are pending "
                        "(default: rectification results first)")
    p.add_argument("--reason", help="notice: a correction's reason, in words")
    p.add_argument("--number", help="opinions: the 发文字号, e.g. 并人社字〔2023〕88号")
    p.add_argument("--signer", help="opinions: the 签发人")
    p.add_argument("--contact", help="opinions: the 联系人")
    p.add_argument("--phone", help="opinions: the contact's telephone")
    p.add_argument("--portal-only", action="store_true",
                   help="notice: publish nothing new, write the portal's files")
