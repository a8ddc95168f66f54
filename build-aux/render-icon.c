/* SPDX-License-Identifier: GPL-3.0-or-later */
/* render-icon.c: renders an SVG icon to a square PNG of one size at build time, through
 * gdk-pixbuf as GTK itself loads an SVG icon, so the picture is the same. The welcome page
 * shows the app icon at 128 pixels; found as a PNG in the resources, it needs no SVG
 * renderer before the first frame (loading librsvg and drawing the SVG were the largest
 * part of the app's own start). Usage: render-icon SIZE INPUT.svg OUTPUT.png */

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdlib.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  guint64 size = 0;

  if (argc != 4 || !g_ascii_string_to_unsigned (argv[1], 10, 1, 4096, &size, NULL))
    {
      g_printerr ("Usage: %s SIZE INPUT.svg OUTPUT.png\n", argv[0]);
      return EXIT_FAILURE;
    }

  pixbuf = gdk_pixbuf_new_from_file_at_scale (argv[2], (int) size, (int) size, TRUE, &error);
  if (pixbuf == NULL || !gdk_pixbuf_save (pixbuf, argv[3], "png", &error, NULL))
    {
      g_printerr ("%s: %s\n", argv[2], error->message);
      return EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}
