// The audit's index.html: counts by verdict at the top, a table of every media file sortable by any
// column without a server (one small inline script, allowed by its hash in the page's CSP and by
// nothing else), thumbnails with the most suspicious region drawn, errors with their reasons, the
// files left out, and the model and settings. Every string from a file name goes through `Markup.escape`.
import Crypto
import Foundation

enum AuditSummaryHTML {
    /// The page for `summary`; `thumbnail` reads a thumbnail JPEG by its name in the output folder.
    static func render(_ summary: AuditSummary, thumbnail: (String) -> Data?) -> String {
        let media = summary.files.filter { $0.status == .scanned || $0.status == .duplicate }
        let errors = summary.files.filter { $0.status == .error }
        let others = summary.files.filter { $0.status == .notMedia || $0.status == .skipped || $0.status == .pending }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
            script-src '\(scriptHash)'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Unmask audit: \(summary.files.count) files</title>
            <style>\(stylesheet)</style></head><body>
            <h1>Unmask audit</h1>

            """
        html += countsSection(summary)
        html += "<h2>Media (\(media.count))</h2>\n"
        html += "<p class=\"note\">Click a column heading to sort. Yellow box: the most suspicious region.</p>\n"
        html += "<table class=\"list sortable\"><thead><tr>"
        for (heading, kind) in [
            ("File", "text"), ("Verdict", "text"), ("P(fake)", "number"), ("Frames", "number"), ("Duration (s)", "number"),
            ("Most suspicious frame", "none"), ("Report", "none"),
        ] {
            html += "<th data-kind=\"\(kind)\">\(heading)</th>"
        }
        html += "</tr></thead><tbody>\n"
        for row in media { html += mediaRow(row, thumbnail: thumbnail) }
        html += "</tbody></table>\n"
        if !errors.isEmpty {
            html += "<h2>Errors (\(errors.count))</h2>\n<table class=\"list\"><tr><th>File</th><th>Reason</th></tr>\n"
            for row in errors {
                html += "<tr><td class=\"mono\">\(Markup.escape(row.path))</td><td>\(Markup.escape(row.reason ?? ""))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if !others.isEmpty {
            html += "<h2>Not audited (\(others.count))</h2>\n<table class=\"list\"><tr><th>Path</th><th>Why</th></tr>\n"
            for row in others {
                let why = (row.status == .notMedia ? "not media: " : "") + (row.reason ?? "")
                html += "<tr><td class=\"mono\">\(Markup.escape(row.path))</td><td>\(Markup.escape(why))</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += settingsSection(summary)
        html +=
            "<footer>Schema \(AuditSummary.schemaIdentifier) · Unmask · summary.json and summary.csv hold the same rows</footer>\n"
        html += "<script>\(script)</script>\n</body></html>\n"
        return html
    }

    static func countsSection(_ summary: AuditSummary) -> String {
        let count = { (key: String) in summary.counts[key] ?? 0 }
        var html = "<div class=\"counts\">"
        for (key, label) in [("fake", "Likely fake"), ("uncertain", "Uncertain"), ("real", "No evidence found")] {
            html += "<div class=\"count verdict-\(key)\"><span class=\"number\">\(count(key))</span> \(label)</div>"
        }
        html += "<div class=\"count neutral\"><span class=\"number\">\(count("error"))</span> Errors</div></div>\n"
        html +=
            "<p>\(count("files")) files: \(count("scanned")) scanned, \(count("duplicate")) duplicates of a scanned file, "
            + "\(count("error")) errors, \(count("pending")) not scanned yet, \(count("not_media")) not media, "
            + "\(count("skipped")) skipped.</p>\n"
        return html
    }

    static func mediaRow(_ row: SummaryRow, thumbnail: (String) -> Data?) -> String {
        let verdict = row.verdict?.rawValue ?? ""
        let probability = row.fakeProbability.map { String(format: "%.3f", $0) } ?? ""
        let frames = row.framesAnalysed.map(String.init) ?? ""
        let duration = row.durationSeconds.map { String(format: "%.2f", $0) } ?? ""
        var file = Markup.escape(row.path)
        if let original = row.duplicateOf { file += "<div class=\"note\">duplicate of \(Markup.escape(original))</div>" }
        var links: [String] = []
        if let html = row.reportHTML { links.append("<a href=\"\(Markup.escape(html))\">HTML</a>") }
        if let json = row.reportJSON { links.append("<a href=\"\(Markup.escape(json))\">JSON</a>") }
        var picture = ""
        if let record = row.thumbnail, let jpeg = thumbnail(record.file) {
            let width = max(1, record.frameWidth), height = max(1, record.frameHeight)
            let region = record.region
            picture =
                "<svg viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"frame \(record.frameIndex)\">"
                + "<image href=\"data:image/jpeg;base64,\(jpeg.base64EncodedString())\" x=\"0\" y=\"0\" width=\"\(width)\" "
                + "height=\"\(height)\" preserveAspectRatio=\"none\"/>"
                + (region.w > 0 && region.h > 0
                    ? "<rect x=\"\(region.x)\" y=\"\(region.y)\" width=\"\(region.w)\" height=\"\(region.h)\" fill=\"none\" "
                        + "stroke=\"#ffd600\" stroke-width=\"\(max(2, width / 160))\"/>" : "")
                + "</svg><div class=\"note\">frame \(record.frameIndex) · \(String(format: "%.2f", record.time)) s</div>"
        }
        return "<tr><td class=\"mono\">\(file)</td><td class=\"label-\(verdict)\">\(verdict)</td>"
            + "<td data-value=\"\(probability)\">\(probability)</td><td data-value=\"\(frames)\">\(frames)</td>"
            + "<td data-value=\"\(duration)\">\(duration)</td><td class=\"thumb\">\(picture)</td><td>\(links.joined(separator: " · "))</td></tr>\n"
    }

    static func settingsSection(_ summary: AuditSummary) -> String {
        let settings = summary.settings
        let rows: [(String, String)] = [
            ("Model", summary.model.name),
            ("Model SHA-256", summary.model.sha256 ?? "unknown"),
            ("Model version", summary.model.version ?? "unknown"),
            ("Sampling", settings.sampling),
            ("Max frames", settings.maxFrames.map(String.init) ?? "no limit"),
            ("Range", "\(settings.startTime.map { "\($0) s" } ?? "start") – \(settings.endTime.map { "\($0) s" } ?? "end")"),
            ("Coverage", String(format: "%.0f%% of each frame", settings.coverage * 100)),
            ("Confirmation sampling", settings.confirmation ? "on" : "off"),
            ("Threshold", String(format: "%.4f", settings.threshold)),
            ("Max frame pixels", settings.maxFramePixels.map(String.init) ?? "not recorded"),
            ("Max analysed frames", settings.maxAnalysedFrames.map(String.init) ?? "not recorded"),
            ("Max decoded frames", settings.maxDecodedFrames.map(String.init) ?? "not recorded"),
            ("Max duration", settings.maxDurationSeconds.map { "\($0) s" } ?? "not recorded"),
        ]
        var html = "<h2>Model and settings</h2>\n<table class=\"facts\">\n"
        for (name, value) in rows { html += "<tr><th>\(name)</th><td class=\"mono\">\(Markup.escape(value))</td></tr>\n" }
        return html + "</table>\n"
    }

    /// Sorts a table.sortable by the clicked column: numbers by `data-value`, text by content; a second
    /// click reverses. Runs only because its hash is in the CSP; marks the page `data-sorting="ready"`
    /// so a headless browser can tell that it ran.
    static let script = """
        document.documentElement.dataset.sorting = "ready";
        document.querySelectorAll("table.sortable th").forEach(function (th, column) {
          if (th.dataset.kind === "none") return;
          th.addEventListener("click", function () {
            var body = th.closest("table").tBodies[0];
            var rows = Array.prototype.slice.call(body.rows);
            var up = th.dataset.order !== "up";
            th.dataset.order = up ? "up" : "down";
            rows.sort(function (a, b) {
              var x = a.cells[column], y = b.cells[column];
              var order = th.dataset.kind === "number"
                ? (parseFloat(x.dataset.value) || -1) - (parseFloat(y.dataset.value) || -1)
                : x.textContent.localeCompare(y.textContent);
              return up ? order : -order;
            });
            rows.forEach(function (row) { body.appendChild(row); });
          });
        });
        """

    static let scriptHash = "sha256-" + Data(SHA256.hash(data: Data(script.utf8))).base64EncodedString()

    static let stylesheet = """
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1200px;
               padding: 0 16px; color: #212121; background: #fafafa; }
        h2 { font-size: 1.15em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .counts { display: flex; gap: 12px; flex-wrap: wrap; }
        .count { border-radius: 8px; padding: 12px 18px; color: #fff; min-width: 140px; }
        .count .number { font-size: 1.8em; font-weight: bold; display: block; }
        .verdict-fake { background: #b71c1c; } .verdict-real { background: #1b5e20; }
        .verdict-uncertain { background: #e65100; } .neutral { background: #455a64; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #eee; vertical-align: top; }
        table.sortable th[data-kind="text"], table.sortable th[data-kind="number"] { cursor: pointer; text-decoration: underline dotted; }
        table.facts th { width: 200px; color: #555; font-weight: normal; }
        td.mono { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; white-space: pre-wrap; }
        td.thumb svg { width: 160px; height: auto; display: block; }
        td.label-fake { color: #b71c1c; font-weight: bold; } td.label-uncertain { color: #e65100; font-weight: bold; }
        td.label-real { color: #1b5e20; }
        .note { color: #555; font-size: 0.9em; }
        footer { margin-top: 32px; color: #777; font-size: 0.85em; }
        """
}
