"""URLconf entries whose code is imported when they are first used, not with the URLconf.

Django imports every view a URLconf names when it loads the URLconf (the first request of a
process), and loads every include when it first reverses any URL (the widget API reverses the
checkout page's). With plain `path()` and `include()`, every new Lambda container would import
DRF, drf-spectacular and all the admin modules before answering `/healthz` or the widget API.

- `LazyView("package.module.View")`: a view imported at its first request; reverse() works
  without importing it.
- `lazy_include("admin/", "package.urls", namespace="admin")`: a namespaced include loaded at
  the first request under its prefix or the first reverse() in its namespace.
"""

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern
from django.utils.functional import cached_property
from django.utils.module_loading import import_string


class LazyView:
    """A view (function, or class-based view's class) imported at its first request.

    Middleware reads a view's attributes before calling it, so those must be known without the
    import: `csrf_exempt` is given here (DRF's `APIView.as_view()` would set it).
    """

    def __init__(self, dotted_path: str, *, csrf_exempt: bool = False, **initkwargs):
        self.dotted_path = dotted_path
        self.initkwargs = initkwargs
        self.csrf_exempt = csrf_exempt
        # What Django shows and matches for the view (URLPattern.lookup_str), import-free.
        self.__module__, _, self.__name__ = dotted_path.rpartition(".")
        self.__qualname__ = self.__name__

    def __call__(self, request, *args, **kwargs):
        return self.view(request, *args, **kwargs)

    @cached_property
    def view(self):
        target = import_string(self.dotted_path)
        return target.as_view(**self.initkwargs) if isinstance(target, type) else target

    @property
    def cls(self):
        """DRF's schema generation (drf-spectacular) finds API views by this attribute."""
        return self.view.cls

    def __repr__(self):
        return f"<LazyView {self.dotted_path}>"


class LazyInclude(URLResolver):
    """A namespaced include whose URLconf is imported when a request path falls under it or a
    name in its namespace is reversed.

    Django's resolver populates every include while populating itself (on the first reverse()
    of any URL), but it looks a namespaced include's names up only through its namespace: this
    one populates only once they are asked for.
    """

    _names_wanted = False

    def _populate(self):
        if self._names_wanted:
            super()._populate()

    def _wanting_names(self):
        self._names_wanted = True
        return self

    @property
    def reverse_dict(self):
        return URLResolver.reverse_dict.fget(self._wanting_names())

    @property
    def namespace_dict(self):
        return URLResolver.namespace_dict.fget(self._wanting_names())

    @property
    def app_dict(self):
        return URLResolver.app_dict.fget(self._wanting_names())

    def _is_callback(self, name):
        return super(LazyInclude, self._wanting_names())._is_callback(name)


def lazy_include(route: str, urlconf_module: str, *, namespace: str) -> LazyInclude:
    """`path(route, include((urlconf_module, namespace)))`, imported on first use."""
    pattern = RoutePattern(route, is_endpoint=False)
    return LazyInclude(pattern, urlconf_module, app_name=namespace, namespace=namespace)
