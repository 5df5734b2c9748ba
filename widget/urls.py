urlpatterns = []  # the widget API and its JavaScript land here
