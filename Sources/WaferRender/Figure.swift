import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// A figure that can draw itself on a canvas of any size, in any format.
public protocol Figure {
    /// The figure's headline (each figure makes one from the data; callers may replace it).
    var title: String { get set }
    /// Draws the whole figure: title, axes, data, legend or colour bar.
    func draw(on canvas: Canvas) throws
}

extension Figure {
    /// Draws the figure on a new canvas and returns the encoded file (PNG bytes or SVG text).
    public func render(format: ImageFormat, width: Int = 1600, height: Int = 1000) throws -> Data {
        let canvas = try Canvas(width: width, height: height, format: format)
        try draw(on: canvas)
        return try canvas.finish()
    }

    /// Draws the figure on a new PNG canvas and returns it unfinished, so its pixels can be read.
    public func rasterize(width: Int = 1600, height: Int = 1000) throws -> Canvas {
        let canvas = try Canvas(width: width, height: height, format: .png)
        try draw(on: canvas)
        return canvas
    }
}
