import sys

from apps.news_api.app import main

sys.exit(main())
