{% autoescape off %}/* Tour widget loader: cached for minutes; loads the content-hashed bundle, cached for a year. */
(function (d) {
  if (window.TourWidget) return window.TourWidget.init();
  if (d.querySelector("script[data-tour-widget-bundle]")) return;
  var script = d.createElement("script");
  script.src = {{ bundle_url }};
  script.async = true;
  script.setAttribute("data-tour-widget-bundle", "");
  script.setAttribute("data-api", {{ api_url }});
  (d.head || d.documentElement).appendChild(script);
})(document);
{% endautoescape %}
