import HTTPTypes
import Hummingbird
import NIOCore

/// The admin console at `/admin/ui/`: one HTML page, two scripts and a stylesheet, embedded in
/// the binary (SwiftPM's `embedInCode`), served without a token (they hold no data; every call
/// they make sends the admin token as a header). A strict Content-Security-Policy allows only
/// these same-origin files: no inline script or style, no other origin, no framing.
struct ConsoleRoutes: Sendable {
    static let prefix = "/admin/ui"

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        .cacheControl: "no-cache",
    ]

    private static let assets: [String: (type: String, bytes: [UInt8])] = [
        "": ("text/html; charset=utf-8", PackageResources.index_html),
        "app.js": ("text/javascript; charset=utf-8", PackageResources.app_js),
        "views.js": ("text/javascript; charset=utf-8", PackageResources.views_js),
        "app.css": ("text/css; charset=utf-8", PackageResources.app_css),
    ]

    func register(on router: Router<GatewayRequestContext>) {
        // The router treats `/admin/ui` and `/admin/ui/` as one path; the page names its files
        // by absolute path, so either works.
        router.get(RouterPath(Self.prefix)) { _, _ in Self.asset("") }
        router.get(RouterPath(Self.prefix + "/:file")) { _, context in Self.asset(context.parameters.get("file") ?? "") }
    }

    static func asset(_ name: String) -> Response {
        guard let asset = assets[name] else {
            return Response(status: .notFound, headers: securityHeaders, body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers = securityHeaders
        headers[.contentType] = asset.type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
