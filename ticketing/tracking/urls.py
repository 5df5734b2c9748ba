urlpatterns = []  # the tracking beacon (/t) lands here
