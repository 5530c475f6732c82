/// The title block every figure starts with.
enum Header {
    /// The y at which content may start below the title block, without drawing it.
    static func height(_ title: String, subtitle: String?, on canvas: Canvas, theme t: Theme) -> Double {
        layout(title, subtitle: subtitle, on: canvas, theme: t).contentTop
    }

    /// Draws `title` (bold) and `subtitle` (muted, shrunk or cut to fit) at the top of the canvas
    /// and returns the y at which the figure's content may start.
    @discardableResult
    static func draw(_ title: String, subtitle: String?, on canvas: Canvas, theme t: Theme) -> Double {
        let l = layout(title, subtitle: subtitle, on: canvas, theme: t)
        canvas.text(l.title, at: Point(t.margin, t.margin), size: l.titleSize, bold: true, v: .top)
        if let s = l.subtitle {
            canvas.text(s, at: Point(t.margin, l.subtitleY), size: l.subtitleSize, color: Palette.muted, v: .top)
        }
        return l.contentTop
    }

    private static func layout(_ title: String, subtitle: String?, on canvas: Canvas, theme t: Theme)
        -> (title: String, titleSize: Double, subtitle: String?, subtitleSize: Double, subtitleY: Double, contentTop: Double) {
        let width = Double(canvas.width) - 2 * t.margin
        let titleSize = canvas.fittingSize(title, width: width, size: t.title, minSize: t.title * 0.7, bold: true)
        let shownTitle = canvas.truncated(title, width: width, size: titleSize, bold: true)
        let m = canvas.fontMetrics(size: titleSize, bold: true)
        var y = t.margin + m.ascent + m.descent
        guard let subtitle, !subtitle.isEmpty else { return (shownTitle, titleSize, nil, 0, 0, y + t.gap * 2) }
        y += t.gap * 0.4
        let size = canvas.fittingSize(subtitle, width: width, size: t.subtitle, minSize: t.subtitle * 0.8)
        let shown = canvas.truncated(subtitle, width: width, size: size)
        let sm = canvas.fontMetrics(size: size)
        return (shownTitle, titleSize, shown, size, y, y + sm.ascent + sm.descent + t.gap * 2)
    }
}
