import CCairo
import Foundation

/// Collects the bytes Cairo streams out (PNG or SVG). Passed through Cairo's `void *closure`.
final class ByteSink {
    var bytes: [UInt8] = []
}

/// One drawing surface for PNG or SVG output, wrapping a Cairo surface and context.
///
/// Every figure draws through this one API, whatever the format: a PNG canvas draws into an
/// ARGB32 image surface (which tests can read back with `pixel(x:y:)`), an SVG canvas into an
/// SVG surface streamed to memory in pixel units. `finish()` ends the drawing and returns the
/// file's bytes. Text uses Cairo's toy API with "DejaVu Sans".
///
/// A canvas (like the Cairo context inside it) must be used from one thread at a time.
public final class Canvas {
    public let width: Int
    public let height: Int
    public let format: ImageFormat
    private let surface: OpaquePointer
    private let cr: OpaquePointer
    private let sink = ByteSink()
    private var finished = false

    /// - Throws: `RenderError.cairo` when Cairo cannot make the surface (e.g. an absurd size).
    public init(width: Int, height: Int, format: ImageFormat) throws {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw RenderError.badOption("image size \(width)x\(height) must be between 1x1 and 16384x16384")
        }
        self.width = width
        self.height = height
        self.format = format
        let s: OpaquePointer?
        switch format {
        case .png:
            s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        case .svg:
            s = cairo_svg_surface_create_for_stream({ closure, data, length in
                guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height))
            if let s { cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX) }
        }
        guard let s, cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
            if let s { cairo_surface_destroy(s) }
            throw RenderError.cairo("cannot create a \(width)x\(height) \(format.rawValue) surface")
        }
        guard let c = cairo_create(s), cairo_status(c) == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(s)
            throw RenderError.cairo("cannot create a drawing context")
        }
        surface = s
        cr = c
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fillRect(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// The whole canvas.
    public var bounds: Rect { Rect(x: 0, y: 0, width: Double(width), height: Double(height)) }

    // MARK: - State

    /// Runs `body` with the graphics state (clip, transform, source) saved and restored around it.
    public func withState(_ body: () throws -> Void) rethrows {
        cairo_save(cr)
        defer { cairo_restore(cr) }
        try body()
    }

    /// Restricts drawing to `r` until the enclosing `withState` ends.
    public func clip(_ r: Rect) {
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
    }

    private func source(_ c: RGB, _ alpha: Double = 1) {
        if alpha >= 1 { cairo_set_source_rgb(cr, c.r, c.g, c.b) } else { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha) }
    }

    private func stroke(_ c: RGB, width: Double, dash: [Double]?, alpha: Double = 1) {
        source(c, alpha)
        cairo_set_line_width(cr, width)
        if let dash, !dash.isEmpty { dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) } } else { cairo_set_dash(cr, nil, 0, 0) }
        cairo_stroke(cr)
    }

    // MARK: - Shapes

    /// Fills a rectangle.
    public func fillRect(_ r: Rect, _ c: RGB, alpha: Double = 1) {
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        source(c, alpha)
        cairo_fill(cr)
    }

    /// Strokes a rectangle's outline, centred on its edges.
    public func strokeRect(_ r: Rect, _ c: RGB, width: Double = 1, dash: [Double]? = nil) {
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        stroke(c, width: width, dash: dash)
    }

    /// A straight line.
    public func line(_ a: Point, _ b: Point, _ c: RGB, width: Double = 1, dash: [Double]? = nil, alpha: Double = 1) {
        cairo_move_to(cr, a.x, a.y)
        cairo_line_to(cr, b.x, b.y)
        stroke(c, width: width, dash: dash, alpha: alpha)
    }

    /// Connected line segments through `points`.
    public func polyline(_ points: [Point], _ c: RGB, width: Double = 1, dash: [Double]? = nil) {
        guard let first = points.first, points.count > 1 else { return }
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_move_to(cr, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        stroke(c, width: width, dash: dash)
    }

    /// Fills a closed polygon (one path element in SVG), optionally outlined.
    public func fillPolygon(_ points: [Point], _ c: RGB, alpha: Double = 1, outline: RGB? = nil, outlineWidth: Double = 1) {
        guard let first = points.first else { return }
        cairo_move_to(cr, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_close_path(cr)
        source(c, alpha)
        if let outline {
            cairo_fill_preserve(cr)
            stroke(outline, width: outlineWidth, dash: nil)
        } else {
            cairo_fill(cr)
        }
    }

    /// A filled circle, optionally outlined.
    public func circle(_ centre: Point, radius: Double, fill: RGB?, outline: RGB? = nil, outlineWidth: Double = 1) {
        cairo_new_sub_path(cr)
        cairo_arc(cr, centre.x, centre.y, radius, 0, 2 * Double.pi)
        if let fill {
            source(fill)
            if outline != nil { cairo_fill_preserve(cr) } else { cairo_fill(cr) }
        }
        if let outline { stroke(outline, width: outlineWidth, dash: nil) }
        cairo_new_path(cr)
    }

    /// Fills `r` with a linear gradient through `stops` (offset in [0, 1], colour), from the
    /// bottom up when `vertical`, else from left to right.
    public func fillGradient(_ r: Rect, stops: [(Double, RGB)], vertical: Bool) {
        guard let pattern = vertical
            ? cairo_pattern_create_linear(0, r.maxY, 0, r.y)
            : cairo_pattern_create_linear(r.x, 0, r.maxX, 0) else { return }
        for (o, c) in stops { cairo_pattern_add_color_stop_rgb(pattern, o, c.r, c.g, c.b) }
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_set_source(cr, pattern)
        cairo_fill(cr)
        cairo_pattern_destroy(pattern)
    }

    /// Draws a raster of `columns × rows` opaque colours (`pixels[row * columns + column]`,
    /// packed with `RGB.argb32`) scaled into `r`, without smoothing.
    ///
    /// The raster is first resampled (nearest neighbour) to `r`'s size in whole pixels and drawn
    /// unscaled, so SVG viewers, which smooth scaled images, show sharp cells too.
    public func image(_ pixels: [UInt32], columns: Int, rows: Int, in r: Rect) {
        guard columns > 0, rows > 0, pixels.count >= columns * rows else { return }
        let tw = max(1, Int(r.width.rounded())), th = max(1, Int(r.height.rounded()))
        guard tw != columns || th != rows else { return blit(pixels, columns: columns, rows: rows, in: r) }
        let xs = (0..<tw).map { min(columns - 1, $0 * columns / tw) }
        var out = [UInt32](repeating: 0, count: tw * th)
        for y in 0..<th {
            let src = min(rows - 1, y * rows / th) * columns
            for x in 0..<tw { out[y * tw + x] = pixels[src + xs[x]] }
        }
        blit(out, columns: tw, rows: th, in: r)
    }

    private func blit(_ pixels: [UInt32], columns: Int, rows: Int, in r: Rect) {
        guard let img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(columns), Int32(rows)) else { return }
        defer { cairo_surface_destroy(img) }
        guard cairo_surface_status(img) == CAIRO_STATUS_SUCCESS else { return }
        cairo_surface_flush(img)
        let stride = Int(cairo_image_surface_get_stride(img))
        guard let base = cairo_image_surface_get_data(img) else { return }
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<rows {
                let row = UnsafeMutableRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<columns { row[x] = src[y * columns + x] }
            }
        }
        cairo_surface_mark_dirty(img)
        cairo_save(cr)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
        cairo_translate(cr, r.x, r.y)
        cairo_scale(cr, r.width / Double(columns), r.height / Double(rows))
        cairo_set_source_surface(cr, img, 0, 0)
        if let p = cairo_get_source(cr) {
            cairo_pattern_set_filter(p, CAIRO_FILTER_NEAREST)
            cairo_pattern_set_extend(p, CAIRO_EXTEND_PAD)
        }
        cairo_paint(cr)
        cairo_restore(cr)
    }

    // MARK: - Text

    private func font(_ size: Double, bold: Bool) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// The advance width of `s` at `size` pixels.
    public func textWidth(_ s: String, size: Double, bold: Bool = false) -> Double {
        font(size, bold: bold)
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, s, &e)
        return e.x_advance
    }

    /// Ascent and descent of the font at `size` pixels.
    public func fontMetrics(size: Double, bold: Bool = false) -> (ascent: Double, descent: Double) {
        font(size, bold: bold)
        var e = cairo_font_extents_t()
        cairo_font_extents(cr, &e)
        return (e.ascent, e.descent)
    }

    /// Draws `s` anchored at `p`, rotated by `angle` radians (counter-clockwise positive, e.g.
    /// π/2 for a vertical axis title reading upwards).
    public func text(_ s: String, at p: Point, size: Double, color: RGB = Palette.ink, bold: Bool = false,
                     h: HAlign = .left, v: VAlign = .baseline, angle: Double = 0) {
        guard !s.isEmpty else { return }
        let w = textWidth(s, size: size, bold: bold)
        let m = fontMetrics(size: size, bold: bold)
        let dx: Double = h == .left ? 0 : h == .center ? -w / 2 : -w
        let capHeight = m.ascent * 0.72
        let dy: Double
        switch v {
        case .top: dy = m.ascent
        case .middle: dy = capHeight / 2
        case .baseline: dy = 0
        case .bottom: dy = -m.descent
        }
        cairo_save(cr)
        cairo_translate(cr, p.x, p.y)
        if angle != 0 { cairo_rotate(cr, -angle) }
        cairo_move_to(cr, dx, dy)
        source(color)
        cairo_show_text(cr, s)
        cairo_new_path(cr)
        cairo_restore(cr)
    }

    /// The largest size not above `size` (and not below `minSize`) at which `s` fits in `width`.
    public func fittingSize(_ s: String, width: Double, size: Double, minSize: Double, bold: Bool = false) -> Double {
        let w = textWidth(s, size: size, bold: bold)
        guard w > width, w > 0 else { return size }
        return max(minSize, size * width / w)
    }

    /// `s` cut with an ellipsis so it fits in `width` at `size`.
    public func truncated(_ s: String, width: Double, size: Double, bold: Bool = false) -> String {
        guard textWidth(s, size: size, bold: bold) > width else { return s }
        var chars = Array(s)
        while !chars.isEmpty, textWidth(String(chars) + "…", size: size, bold: bold) > width { chars.removeLast() }
        return String(chars) + "…"
    }

    // MARK: - Output

    /// The colour of pixel (x, y) of a PNG canvas (un-premultiplied), or nil out of bounds or on SVG.
    public func pixel(x: Int, y: Int) -> RGB? {
        guard format == .png, !finished, x >= 0, y >= 0, x < width, y < height else { return nil }
        cairo_surface_flush(surface)
        guard let base = cairo_image_surface_get_data(surface) else { return nil }
        let stride = Int(cairo_image_surface_get_stride(surface))
        let p = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)[x]
        let a = Double((p >> 24) & 0xff)
        guard a > 0 else { return RGB(0, 0, 0) }
        return RGB(Double((p >> 16) & 0xff) / a, Double((p >> 8) & 0xff) / a, Double(p & 0xff) / a)
    }

    /// Ends the drawing and returns the encoded file: PNG bytes or SVG text.
    ///
    /// Read pixels before calling this (`pixel(x:y:)` returns nil afterwards). An SVG is complete
    /// only once this returns: Cairo writes the document at `cairo_surface_finish`.
    /// - Throws: `RenderError.cairo` when encoding fails.
    public func finish() throws -> Data {
        guard !finished else { return Data(sink.bytes) }
        switch format {
        case .png:
            cairo_surface_flush(surface)
            let status = cairo_surface_write_to_png_stream(surface, { closure, data, length in
                guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
            guard status == CAIRO_STATUS_SUCCESS else {
                throw RenderError.cairo(String(cString: cairo_status_to_string(status)))
            }
            finished = true
        case .svg:
            cairo_surface_finish(surface)
            finished = true
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw RenderError.cairo(String(cString: cairo_status_to_string(status)))
            }
        }
        return Data(sink.bytes)
    }
}
