import sys

from apps.news_job.job import main

sys.exit(main())
